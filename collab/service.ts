import { COLLAB_CLOSE, COLLAB_MAX_MESSAGE_BYTES, COLLAB_PATH_PREFIX, canWrite } from "@algorythmos/domain";
import {
  authenticateUpgrade,
  observeCollabMessage,
  reportCollab,
  roleForWorkflow,
  workflowLogHeads,
  type AccessChange,
  type Db,
  type Logger,
  type SeqRange,
  type SessionRevocations,
} from "@algorythmos/platform";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { MentionNotifier } from "./mentions.js";
import type { DocRelay } from "./relay.js";
import { DocumentTooLargeError, ProtocolError, Room, type RoomOptions } from "./room.js";

export interface CollabOptions {
  db: Db;
  /** Relays updates between processes; without it this process must be the only one serving its workflows. */
  relay?: DocRelay;
  logger: Logger;
  jwtSecret: string;
  compactEvery?: number;
  materialiseAfterMs?: number;
  /** Tokens per second one client may spend (sustained), and the burst above it; a message costs one token per started 16 KiB. */
  rateLimit?: { perSecond: number; burst: number };
  /**
   * How often every loaded room compares the head of its workflow's log (PostgreSQL) with what it holds, and
   * reads what it is missing: the repair for relay messages that never came (Redis down, a crashed
   * publisher). One query per pass for all rooms of the process.
   */
  antiEntropyMs?: number;
  /**
   * Subscribes to membership changes (platform `subscribeAccessChanges`): the sockets of a member who was
   * removed are closed, of one demoted to viewer made read-only (and the reverse), within moments.
   */
  subscribeAccessChanges?: (handler: (change: AccessChange) => void) => Promise<() => Promise<void>>;
  /** Subscribes to ended sessions (platform `subscribeSessionEnds`): sockets opened with them close (4401). */
  subscribeSessionEnds?: (handler: (sessionIds: string[]) => void) => Promise<() => Promise<void>>;
  /** How a connecting token's session is checked for revocation (default: PostgreSQL; Redis is faster). */
  revocations?: SessionRevocations;
}

export interface CollabService {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Rooms currently loaded, by workflow id (for tests and health). */
  rooms: Map<string, Promise<Room>>;
  /** Stops taking connections, flushes every room, closes every socket. */
  close(): Promise<void>;
}

const byteLength = (data: RawData): number =>
  Array.isArray(data) ? data.reduce((sum, part) => sum + part.byteLength, 0) : data.byteLength;

const toBytes = (data: RawData): Uint8Array =>
  Array.isArray(data) ? new Uint8Array(Buffer.concat(data)) : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data);

/** The longest workflow id a path may name (ids are `wf_` and 20 characters; the rest is headroom). */
const MAX_WORKFLOW_ID_LENGTH = 100;

/**
 * The URL and workflow id of an upgrade to `/collab/<workflowId>`, or null when the path cannot name one
 * (malformed percent-encoding, an over-long or empty id). Synchronous, before any socket is accepted.
 */
export function parseCollabPath(requestUrl: string | undefined): { url: URL; workflowId: string } | null {
  let url: URL;
  let workflowId: string;
  try {
    url = new URL(requestUrl ?? "/", "http://collab.invalid");
    if (!url.pathname.startsWith(COLLAB_PATH_PREFIX)) return null;
    workflowId = decodeURIComponent(url.pathname.slice(COLLAB_PATH_PREFIX.length));
  } catch {
    return null;
  }
  if (!workflowId || workflowId.length > MAX_WORKFLOW_ID_LENGTH) return null;
  return { url, workflowId };
}

/** Answers an upgrade that will not become a WebSocket with a plain HTTP error (JSON, like the API's). */
function refuseUpgrade(socket: Duplex, status: 400 | 503, message: string): void {
  const body = JSON.stringify({ error: { code: status === 400 ? "BAD_REQUEST" : "SERVICE_UNAVAILABLE", message } });
  const reason = status === 400 ? "Bad Request" : "Service Unavailable";
  socket.on("error", () => {});
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${status === 503 ? "Retry-After: 2\r\n" : ""}\r\n${body}`,
  );
}

/**
 * The y-websocket service: `/collab/<workflowId>?token=…`. The socket is accepted first (so refusals can carry a
 * close code), then authenticated and authorised before any document data is sent; messages that arrive
 * meanwhile are queued. See docs/collab.md.
 */
export function createCollabService(options: CollabOptions): CollabService {
  // Announced through the relay's Redis connection: the processes that relay documents announce notifications too.
  const mentions = new MentionNotifier({
    db: options.db,
    logger: options.logger,
    publisher: options.relay && { redis: options.relay.publisher, redisPrefix: options.relay.redisPrefix },
  });
  const roomOptions: RoomOptions = {
    db: options.db,
    logger: options.logger,
    compactEvery: options.compactEvery ?? 500,
    materialiseAfterMs: options.materialiseAfterMs ?? 300,
    publish: options.relay && ((workflowId, update, seqs) => options.relay!.publish(workflowId, update, seqs)),
    onMentions: (target, actor, notices) => mentions.notify(target, actor, notices),
  };
  const rate = options.rateLimit ?? { perSecond: 300, burst: 600 };
  // ws refuses far larger frames by itself (1009); ours get a documented close code below.
  const sockets = new WebSocketServer({ noServer: true, maxPayload: COLLAB_MAX_MESSAGE_BYTES * 2 });
  const rooms = new Map<string, Promise<Room>>();
  /** Each open socket's queue of messages being handled, so shutdown can wait until they are stored. */
  const handling = new Map<WebSocket, () => Promise<void>>();
  /** Holds a socket's later messages until `until` settles (a membership re-check), in arrival order. */
  const holds = new Map<WebSocket, (until: Promise<void>) => void>();
  /** Rooms whose load finished, for the synchronous part of a membership change. */
  const loadedRooms = new Map<string, Room>();
  let closing = false;
  // Rooms and joined sockets, read at each /metrics scrape (docs/observability.md).
  const stopReporting = reportCollab(async () => ({ rooms: rooms.size, sockets: [...loadedRooms.values()].reduce((sum, room) => sum + room.connections.size, 0) }));

  function openRoom(workflowId: string): Promise<Room> {
    let room = rooms.get(workflowId);
    if (!room) {
      room = loadRoom(workflowId);
      rooms.set(workflowId, room);
      room.catch(() => rooms.delete(workflowId)); // a failed load is retried by the next connection
    }
    return room;
  }

  /** Subscribes to the relay first, then loads, then applies what arrived meanwhile (updates are idempotent). */
  async function loadRoom(workflowId: string): Promise<Room> {
    const early: [Uint8Array, SeqRange | undefined][] = [];
    let loaded: Room | null = null;
    const onRelayed = (update: Uint8Array, seqs: SeqRange | undefined) => (loaded ? loaded.applyRelayed(update, seqs) : early.push([update, seqs]));
    await options.relay?.join(workflowId, onRelayed);
    try {
      loaded = await Room.load(workflowId, roomOptions);
    } catch (error) {
      await options.relay?.leave(workflowId, onRelayed).catch(() => {});
      throw error;
    }
    loaded.onRelayed = onRelayed;
    for (const [update, seqs] of early) loaded.applyRelayed(update, seqs);
    loadedRooms.set(workflowId, loaded);
    return loaded;
  }

  /** One anti-entropy pass: every loaded room whose log moved past what it holds reads the rest. */
  async function antiEntropyPass(): Promise<void> {
    const loaded = new Map<string, Room>();
    for (const [workflowId, room] of rooms) {
      const ready = await Promise.race([room, Promise.resolve(null)]).catch(() => null);
      if (ready) loaded.set(workflowId, ready);
    }
    if (!loaded.size) return;
    const heads = await workflowLogHeads(options.db, [...loaded.keys()]);
    await Promise.all(
      [...loaded].map(([workflowId, room]) => {
        const head = heads.get(workflowId);
        return head !== undefined && (head > room.log.through || room.incomplete) ? room.catchUp() : undefined;
      }),
    );
  }
  const antiEntropyMs = options.antiEntropyMs ?? 2_000;
  let antiEntropyTimer: NodeJS.Timeout | null = null;
  const scheduleAntiEntropy = () => {
    // Jittered, so processes started together do not query in step.
    antiEntropyTimer = setTimeout(() => {
      antiEntropyPass()
        .catch((error) => options.logger.warn("collab anti-entropy pass failed", { error }))
        .finally(() => {
          if (!closing) scheduleAntiEntropy();
        });
    }, antiEntropyMs * (0.75 + Math.random() * 0.5));
    antiEntropyTimer.unref();
  };
  scheduleAntiEntropy();

  /** When each `${workspaceId}:${userId}` last changed: a socket authorised just before a change is re-checked. */
  const accessChangedAt = new Map<string, number>();
  async function recheckAccess(change: AccessChange): Promise<void> {
    for (const [workflowId, pending] of rooms) {
      const room = await pending.catch(() => null);
      if (!room || room.workspaceId !== change.workspaceId) continue;
      const affected = [...room.connections].filter(([, connection]) => connection.userId === change.userId);
      if (!affected.length) continue;
      const role = await roleForWorkflow(options.db, change.userId, workflowId);
      for (const [socket, connection] of affected) {
        if (!role) socket.close(COLLAB_CLOSE.NOT_FOUND, "You no longer have access to this workflow");
        else connection.readOnly = !canWrite(role);
      }
    }
  }
  const onAccessChange = (change: AccessChange) => {
    const now = Date.now();
    accessChangedAt.set(`${change.workspaceId}:${change.userId}`, now);
    for (const [key, at] of accessChangedAt) if (now - at > 60_000) accessChangedAt.delete(key);
    const check = recheckAccess(change).catch((error) => {
      options.logger.error("collab access re-check failed; closing the member's sockets", { change, error });
      for (const socket of socketsOf(change)) socket.close(COLLAB_CLOSE.UNAVAILABLE, "Could not re-check your access; reconnect");
    });
    // Until the new role is known, nothing more from that member is handled: an edit sent right after a
    // removal waits for the re-check, which closes the socket, and is never stored.
    for (const socket of socketsOf(change)) holds.get(socket)?.(check);
  };
  function socketsOf(change: AccessChange): WebSocket[] {
    return [...loadedRooms.values()]
      .filter((room) => room.workspaceId === change.workspaceId)
      .flatMap((room) => [...room.connections].filter(([, connection]) => connection.userId === change.userId).map(([socket]) => socket));
  }
  const accessSubscription = options.subscribeAccessChanges?.(onAccessChange);
  accessSubscription?.catch((error) => options.logger.error("collab could not subscribe to membership changes", { error }));
  const endedSessions = new Map<string, number>(); // for sockets still connecting when their session ended
  const onSessionsEnded = (sessionIds: string[]) => {
    const now = Date.now();
    for (const id of sessionIds) endedSessions.set(id, now);
    for (const [id, at] of endedSessions) if (now - at > 60_000) endedSessions.delete(id);
    const ended = new Set(sessionIds);
    for (const room of loadedRooms.values()) {
      for (const [socket, connection] of room.connections) {
        if (connection.sessionId && ended.has(connection.sessionId)) socket.close(COLLAB_CLOSE.UNAUTHENTICATED, "Your session ended; sign in again");
      }
    }
  };
  const sessionSubscription = options.subscribeSessionEnds?.(onSessionsEnded);
  sessionSubscription?.catch((error) => options.logger.error("collab could not subscribe to ended sessions", { error }));

  async function releaseRoom(workflowId: string, room: Room) {
    if (room.connections.size > 0 || rooms.get(workflowId) === undefined) return;
    await room.flushAll();
    if (room.connections.size === 0 && !closing) {
      rooms.delete(workflowId);
      if (loadedRooms.get(workflowId) === room) loadedRooms.delete(workflowId);
      room.destroy();
      if (room.onRelayed) await options.relay?.leave(workflowId, room.onRelayed).catch(() => {});
    }
  }

  async function accept(socket: WebSocket, request: IncomingMessage, url: URL, workflowId: string) {
    const queued: Uint8Array[] = [];
    let room: Room | null = null;
    let closed = false;
    let tokens = rate.burst;
    let lastRefill = Date.now();
    let chain = Promise.resolve();
    handling.set(socket, () => chain);
    holds.set(socket, (until) => {
      chain = chain.then(() => until.catch(() => {}));
    });

    const handle = (data: Uint8Array) => {
      chain = chain.then(async () => {
        if (closed || !room) return;
        try {
          await observeCollabMessage(data, () => room!.receive(socket, data));
        } catch (error) {
          if (error instanceof ProtocolError) {
            options.logger.warn("collab malformed message", { workflowId, reason: error.message });
            socket.close(COLLAB_CLOSE.MALFORMED, error.message.slice(0, 120));
          } else if (error instanceof DocumentTooLargeError) {
            socket.close(COLLAB_CLOSE.DOCUMENT_TOO_LARGE, error.message.slice(0, 120));
          } else {
            // Storage failed: the edit was not applied; the client resends it after reconnecting.
            socket.close(COLLAB_CLOSE.UNAVAILABLE, "Could not store the edit; reconnect");
          }
        }
      });
    };

    socket.on("message", (raw) => {
      // While shutting down nothing new is taken: the client resends it to the process it reconnects to.
      if (closed || closing) return;
      const now = Date.now();
      tokens = Math.min(rate.burst, tokens + ((now - lastRefill) / 1000) * rate.perSecond);
      lastRefill = now;
      // Big messages cost more: one token per started 16 KiB, so the budget bounds bytes as well as messages.
      tokens -= Math.max(1, Math.ceil(byteLength(raw) / 16_384));
      if (tokens < 0) {
        socket.close(COLLAB_CLOSE.RATE_LIMITED, "Too many messages");
        return;
      }
      const data = toBytes(raw);
      if (data.byteLength > COLLAB_MAX_MESSAGE_BYTES) {
        socket.close(COLLAB_CLOSE.TOO_LARGE, `Messages are limited to ${COLLAB_MAX_MESSAGE_BYTES} bytes`);
        return;
      }
      if (room) handle(data);
      else queued.push(data);
    });
    socket.on("close", () => {
      closed = true;
      handling.delete(socket);
      holds.delete(socket);
      if (room) {
        const current = room;
        current.leave(socket);
        void chain.then(() => releaseRoom(workflowId, current)).catch((error) => options.logger.warn("collab release failed", { workflowId, error }));
      }
    });
    socket.on("error", () => socket.terminate());

    try {
      const checkedAt = Date.now();
      const principal = await authenticateUpgrade(options.db, options.jwtSecret, request.headers, url.searchParams.get("token"), options.revocations);
      if (!principal) return socket.close(COLLAB_CLOSE.UNAUTHENTICATED, "Invalid or missing token");
      const role = workflowId ? await roleForWorkflow(options.db, principal.userId, workflowId) : null;
      if (!role) return socket.close(COLLAB_CLOSE.NOT_FOUND, "Workflow not found");
      const user = await options.db.user.findUnique({ where: { id: principal.userId }, select: { name: true } });
      const loaded = await openRoom(workflowId);
      if (closed) return void releaseRoom(workflowId, loaded);
      room = loaded;
      if (principal.sessionId && endedSessions.has(principal.sessionId)) return socket.close(COLLAB_CLOSE.UNAUTHENTICATED, "Your session ended; sign in again");
      room.join(socket, { userId: principal.userId, userName: user?.name ?? "", readOnly: !canWrite(role), sessionId: principal.sessionId });
      // A membership change between the role check and the join was not applied to this socket: apply it.
      if ((accessChangedAt.get(`${room.workspaceId}:${principal.userId}`) ?? 0) >= checkedAt) {
        await recheckAccess({ workspaceId: room.workspaceId, userId: principal.userId });
      }
      for (const data of queued.splice(0)) handle(data);
    } catch (error) {
      options.logger.error("collab connect failed", { workflowId, error });
      socket.close(COLLAB_CLOSE.UNAVAILABLE, "Document unavailable; retry later");
    }
  }

  return {
    rooms,
    handleUpgrade(request, socket, head) {
      if (closing) return refuseUpgrade(socket, 503, "The collab service is shutting down; reconnect");
      const target = parseCollabPath(request.url);
      if (!target) return refuseUpgrade(socket, 400, `Connect to ${COLLAB_PATH_PREFIX}<workflowId> with a well-formed workflow id`);
      try {
        sockets.handleUpgrade(request, socket, head, (ws) =>
          accept(ws, request, target.url, target.workflowId).catch((error) => {
            options.logger.error("collab accept failed", { workflowId: target.workflowId, error });
            ws.close(COLLAB_CLOSE.UNAVAILABLE, "Document unavailable; retry later");
          }),
        );
      } catch (error) {
        options.logger.warn("collab upgrade refused", { error });
        refuseUpgrade(socket, 400, "Malformed WebSocket upgrade");
      }
    },
    /**
     * Graceful shutdown: stop taking upgrades and messages, store and publish what was received, then close
     * the sockets (clients reconnect, to another process behind a load balancer) and leave the relay.
     */
    async close() {
      closing = true;
      stopReporting();
      if (antiEntropyTimer) clearTimeout(antiEntropyTimer);
      await (await accessSubscription?.catch(() => null))?.();
      await (await sessionSubscription?.catch(() => null))?.();
      const loaded = await Promise.allSettled([...rooms.values()]);
      const live = loaded.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
      await Promise.all([...handling.values()].map((chain) => chain()));
      await Promise.all(live.map((room) => room.flushAll()));
      await mentions.drain();
      await options.relay?.drain();
      for (const room of live) {
        room.closeAll();
        room.destroy();
      }
      rooms.clear();
      loadedRooms.clear();
      for (const client of sockets.clients) client.terminate();
      sockets.close();
    },
  };
}
