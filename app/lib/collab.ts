/**
 * The workflow's collaborative document: one Y.Doc per open editor, synced with the collab service over
 * y-websocket (`/collab/<workflowId>`; the same-origin upgrade carries the session cookie). Everything
 * here runs in the browser only: the doc and provider are created in an effect, never during SSR.
 */
import { COLLAB_CLOSE, docMaps } from "@algorythmos/domain";
import { useEffect, useState } from "react";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { wsOrigin } from "./graphql.browser";
import { assignColors, userColor } from "./user-colors";

export { assignColors, colorDistance, labelTextColor, userColor, USER_PALETTE } from "./user-colors";

export type ConnectionStatus = "connecting" | "connected" | "offline";

export interface PresenceUser {
  id: string;
  name: string;
  color: string;
}

/** Origin of every edit this tab makes, so the undo manager undoes only our own changes. */
export const LOCAL_ORIGIN = Symbol("local-edit");

export interface WorkflowDoc {
  doc: Y.Doc | null;
  provider: WebsocketProvider | null;
  awareness: WebsocketProvider["awareness"] | null;
  undoManager: Y.UndoManager | null;
  status: ConnectionStatus;
  /** Set when the server closed the connection for a reason the user should know. */
  closeMessage: string | null;
  /** True once the first sync with the server finished (the doc holds the stored workflow). */
  synced: boolean;
  /** People with the workflow open (one entry per user, however many tabs), including us. */
  people: PresenceUser[];
  /** Every other tab with the workflow open, with its canvas cursor and selection. */
  peers: Peer[];
  /** Our colour, as others see it. */
  me: PresenceUser | null;
}

const CLOSE_MESSAGES: Record<number, string> = {
  [COLLAB_CLOSE.UNAUTHENTICATED]: "Your session has ended. Log in again to keep editing.",
  [COLLAB_CLOSE.NOT_FOUND]: "You do not have access to this workflow (or it does not exist).",
  [COLLAB_CLOSE.MALFORMED]: "The collaboration service rejected a malformed message. Reload the page.",
  [COLLAB_CLOSE.TOO_LARGE]: "A change was too large to sync. Reload the page.",
  [COLLAB_CLOSE.RATE_LIMITED]: "Too many changes at once; reconnecting…",
  [COLLAB_CLOSE.UNAVAILABLE]: "The collaboration service is unavailable; reconnecting…",
};

/** Closes after which reconnecting cannot help: auth, access, or a client bug. */
const TERMINAL_CLOSES = new Set<number>([
  COLLAB_CLOSE.UNAUTHENTICATED,
  COLLAB_CLOSE.NOT_FOUND,
  COLLAB_CLOSE.MALFORMED,
  COLLAB_CLOSE.TOO_LARGE,
]);

/** Another open editor (one per tab): where its pointer is on the canvas and which step it has selected. */
export interface Peer {
  clientId: number;
  user: PresenceUser;
  /** Flow coordinates, or null when the pointer is off the canvas. */
  cursor: { x: number; y: number } | null;
  selectedStepId: string | null;
  /** Where its canvas view is: the flow point at the centre and the zoom (for follow mode), or null. */
  viewport: { x: number; y: number; zoom: number } | null;
}

const finite = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
function readViewport(value: unknown): Peer["viewport"] {
  const v = value as { x?: unknown; y?: unknown; zoom?: unknown } | null | undefined;
  return v && finite(v.x) && finite(v.y) && finite(v.zoom) && v.zoom > 0 ? { x: v.x, y: v.y, zoom: v.zoom } : null;
}

const isValidColor = (color: unknown): color is string => typeof color === "string" && /^#[0-9a-fA-F]{6}$/.test(color);

export function useWorkflowDoc(workflowId: string, user: { id: string; name: string }): WorkflowDoc {
  const [state, setState] = useState<WorkflowDoc>({
    doc: null,
    provider: null,
    awareness: null,
    undoManager: null,
    status: "connecting",
    closeMessage: null,
    synced: false,
    people: [],
    peers: [],
    me: null,
  });

  useEffect(() => {
    const doc = new Y.Doc();
    // Cross-tab BroadcastChannel sync is off: the server is the one source of truth (and checks access).
    const provider = new WebsocketProvider(wsOrigin() + "/collab", workflowId, doc, {
      disableBc: true,
      shouldReconnect: (event) => !TERMINAL_CLOSES.has(event.code),
    });
    const { meta, steps, edges } = docMaps(doc);
    const undoManager = new Y.UndoManager([meta, steps, edges], { trackedOrigins: new Set([LOCAL_ORIGIN]) });
    let me: PresenceUser = { id: user.id, name: user.name, color: userColor(user.id) };
    provider.awareness.setLocalStateField("user", me);

    const update = (patch: Partial<WorkflowDoc>) => setState((current) => ({ ...current, ...patch }));
    update({ doc, provider, awareness: provider.awareness, undoManager, status: "connecting", synced: false, closeMessage: null, me });

    let connected = false;
    const refreshStatus = () =>
      update({ status: connected && provider.synced ? "connected" : provider.shouldConnect ? "connecting" : "offline" });

    provider.on("status", ({ status }) => {
      connected = status === "connected";
      // Between a drop and the next attempt we are offline; y-websocket then reports "connecting" again.
      if (status === "disconnected") update({ status: "offline" });
      else refreshStatus();
    });
    provider.on("sync", (synced) => {
      if (synced) update({ synced: true, closeMessage: null });
      refreshStatus();
    });
    provider.on("connection-close", (event) => {
      const message = event ? CLOSE_MESSAGES[event.code] : undefined;
      if (message) update({ closeMessage: message });
    });
    provider.on("closed", ({ code }) => {
      update({ status: "offline", closeMessage: CLOSE_MESSAGES[code] ?? `Disconnected (code ${code}).` });
    });

    const refreshPeople = () => {
      const byId = new Map<string, PresenceUser>();
      const peers: Peer[] = [];
      const states = [...provider.awareness.getStates()];
      // Colours are shared out among the people in the room (every client computes the same assignment), so
      // two collaborators never get near-identical colours; ours is published for the carets of the others.
      const ids = states.map(([, value]) => (value as { user?: { id?: unknown } }).user?.id).filter((id): id is string => typeof id === "string");
      const colors = assignColors([...ids, me.id]);
      const myColor = colors.get(me.id)!;
      if (myColor !== me.color) {
        me = { ...me, color: myColor };
        provider.awareness.setLocalStateField("user", me);
        update({ me });
        return; // the awareness change this makes calls us again
      }
      for (const [clientId, value] of states) {
        const state = value as { user?: Partial<PresenceUser>; cursor?: unknown; selectedStepId?: unknown; viewport?: unknown };
        const person = state.user;
        if (!person || typeof person.id !== "string" || typeof person.name !== "string") continue;
        const assigned = colors.get(person.id);
        const user = { id: person.id, name: person.name, color: assigned ?? (isValidColor(person.color) ? person.color : userColor(person.id)) };
        if (!byId.has(user.id)) byId.set(user.id, user);
        if (clientId === provider.awareness.clientID) continue;
        // `cursor` is shared with the notes editor's carets ({ anchor, head }); only { x, y } is a canvas pointer.
        const cursor = state.cursor as { x?: unknown; y?: unknown } | null | undefined;
        peers.push({
          clientId,
          user,
          cursor: cursor && typeof cursor.x === "number" && typeof cursor.y === "number" ? { x: cursor.x, y: cursor.y } : null,
          selectedStepId: typeof state.selectedStepId === "string" ? state.selectedStepId : null,
          viewport: readViewport(state.viewport),
        });
      }
      // Us first, then the others by name.
      const people = [...byId.values()].sort((a, b) => (a.id === me.id ? -1 : b.id === me.id ? 1 : a.name.localeCompare(b.name)));
      update({ people, peers });
    };
    provider.awareness.on("change", refreshPeople);
    refreshPeople();

    // Offline: stop the socket (and its reconnect attempts) but keep editing the local doc; back online, the
    // y-websocket sync exchanges what each side is missing, so offline edits merge with everyone else's.
    const goOffline = () => {
      provider.disconnect();
      update({ status: "offline" });
    };
    const goOnline = () => {
      if (!provider.shouldConnect) provider.connect();
      refreshStatus();
    };
    window.addEventListener("offline", goOffline);
    window.addEventListener("online", goOnline);

    return () => {
      window.removeEventListener("offline", goOffline);
      window.removeEventListener("online", goOnline);
      provider.awareness.off("change", refreshPeople);
      undoManager.destroy();
      provider.destroy();
      doc.destroy();
    };
  }, [workflowId, user.id, user.name]);

  return state;
}

/** Re-renders the caller on every change of the doc (local or remote) and returns a change counter. */
export function useDocVersion(doc: Y.Doc | null): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!doc) return;
    const bump = () => setVersion((v) => v + 1);
    doc.on("update", bump);
    bump();
    return () => doc.off("update", bump);
  }, [doc]);
  return version;
}
