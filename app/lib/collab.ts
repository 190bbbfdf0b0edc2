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

/** A stable colour per user id, so a person keeps their colour across tabs and sessions. */
export function userColor(id: string): string {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 65% 45%)`;
}

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
    const me: PresenceUser = { id: user.id, name: user.name, color: userColor(user.id) };
    provider.awareness.setLocalStateField("user", me);

    const update = (patch: Partial<WorkflowDoc>) => setState((current) => ({ ...current, ...patch }));
    update({ doc, provider, awareness: provider.awareness, undoManager, status: "connecting", synced: false, closeMessage: null });

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
      for (const value of provider.awareness.getStates().values()) {
        const person = (value as { user?: Partial<PresenceUser> }).user;
        if (person && typeof person.id === "string" && typeof person.name === "string" && !byId.has(person.id)) {
          byId.set(person.id, { id: person.id, name: person.name, color: person.color ?? userColor(person.id) });
        }
      }
      // Us first, then the others by name.
      const people = [...byId.values()].sort((a, b) => (a.id === me.id ? -1 : b.id === me.id ? 1 : a.name.localeCompare(b.name)));
      update({ people });
    };
    provider.awareness.on("change", refreshPeople);
    refreshPeople();

    const goOffline = () => update({ status: "offline" });
    window.addEventListener("offline", goOffline);

    return () => {
      window.removeEventListener("offline", goOffline);
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
