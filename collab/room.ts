import { COLLAB_CLOSE, COLLAB_MAX_PRESENCE_IDS_PER_SOCKET, COLLAB_MAX_PRESENCE_STATE_BYTES, MAX_WORKFLOW_DOC_BYTES } from "@algorythmos/domain";
import {
  appendWorkflowUpdates,
  compactWorkflowDoc,
  loadWorkflowState,
  materialiseDefinition,
  readWorkflowLogSince,
  type Db,
  type Logger,
  type MentionActor,
  type MentionNotice,
  type SeqRange,
} from "@algorythmos/platform";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as awarenessProtocol from "y-protocols/awareness";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import type { WebSocket } from "ws";
import { MentionWatch } from "./mentions.js";

/** y-websocket message types. */
export const MESSAGE = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const;

export interface RoomOptions {
  db: Db;
  logger: Logger;
  /** Fold the update log into the snapshot after this many appended updates. */
  compactEvery: number;
  /** Materialise the definition this long after the last edit. */
  materialiseAfterMs: number;
  /** Hands each durable update to other processes (see relay.ts). */
  publish?: (workflowId: string, update: Uint8Array, seqs: SeqRange) => void;
  /** A gap in the log seqs this room holds is filled from PostgreSQL after this long (a relayed update may just be late). */
  gapFillAfterMs?: number;
  /** Called once a socket's update that @mentions someone is durable (collab/mentions.ts). */
  onMentions?: (target: { workspaceId: string; workflowId: string }, actor: MentionActor, notices: MentionNotice[]) => void;
}

/**
 * Which seqs of the workflow's log the room's document holds: every seq up to `through`, and some above it
 * (`above`) when updates arrived out of order or one is missing. A gap that stays is filled from the log.
 */
export class LogPosition {
  through = 0;
  private readonly above = new Set<number>();

  add(seqs: SeqRange): void {
    for (let seq = Math.max(seqs.first, this.through + 1); seq <= seqs.last; seq++) this.above.add(seq);
    this.advance();
  }

  /** After reading the log up to `seq`: everything up to it is held. */
  holdThrough(seq: number): void {
    if (seq <= this.through) return;
    this.through = seq;
    for (const held of this.above) if (held <= seq) this.above.delete(held);
    this.advance();
  }

  /** True when the room holds seqs above one it is missing. */
  get hasGap(): boolean {
    return this.above.size > 0;
  }

  private advance(): void {
    while (this.above.delete(this.through + 1)) this.through++;
  }
}

/** Presence broadcasts of a room are at least this far apart (changes in between go out together). */
export const AWARENESS_BROADCAST_MS = 50;

export class ProtocolError extends Error {}

/** An edit refused because the document would outgrow MAX_WORKFLOW_DOC_BYTES (close code DOCUMENT_TOO_LARGE). */
export class DocumentTooLargeError extends Error {}

export interface Connection {
  readOnly: boolean;
  userId: string;
  /** The session of the JWT the socket was opened with (none for API tokens): a logout closes it. */
  sessionId?: string;
  userName: string;
  /** Awareness client ids this socket controls, removed when it leaves. */
  awarenessIds: Set<number>;
}

/**
 * One workflow's live document. Updates from a writer are made durable (appended to WorkflowUpdate) before
 * they are applied and broadcast; a viewer's updates are dropped. Appends are group-committed: updates
 * that arrive while one insert is in flight go in the next insert, in arrival order.
 */
export class Room {
  readonly doc = new Y.Doc({ gc: true });
  /**
   * A copy of `doc` that every update is tried on first. Some corrupt updates decode fine but throw half-way
   * through integration; trying them here keeps them out of the log and out of the live document.
   */
  private shadow = new Y.Doc({ gc: true });
  /** What each socket update tried on the shadow adds to the comments' mentions (collab/mentions.ts). */
  private mentionWatch = new MentionWatch(this.shadow);
  /** Which socket owns each awareness client id: a socket may set only its own presence. */
  private readonly awarenessOwners = new Map<number, WebSocket>();
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  readonly connections = new Map<WebSocket, Connection>();
  private pending: { update: Uint8Array; from: WebSocket; author: MentionActor; mentions: MentionNotice[]; done: (error?: Error) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private appendedSinceCompaction = 0;
  private materialiseTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  /** This room's relay subscription handler (set by the service), to leave the relay with. */
  onRelayed: ((update: Uint8Array, seqs: SeqRange | undefined) => void) | null = null;
  /** The log seqs the document holds (see LogPosition). */
  readonly log = new LogPosition();
  private gapTimer: NodeJS.Timeout | null = null;
  private catchingUp: Promise<void> | null = null;
  private catchUpAgain = false;
  private destroyed = false;
  /** An upper bound of the encoded document's size (see outgrown). */
  private estimatedBytes = 0;
  /** The workflow's workspace, for membership changes (set at load). */
  workspaceId = "";
  /** Awareness client ids changed since the last presence broadcast (see broadcastAwareness). */
  private readonly awarenessChanged = new Set<number>();
  private awarenessTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly workflowId: string,
    private readonly options: RoomOptions,
  ) {
    this.awareness.setLocalState(null); // the server has no presence of its own
    this.doc.on("update", (update: Uint8Array, origin: unknown) => this.broadcastUpdate(update, origin));
    this.awareness.on("update", ({ added, updated, removed }: Record<string, number[]>, origin: unknown) => {
      const connection = this.connections.get(origin as WebSocket);
      if (connection) {
        for (const id of added!) connection.awarenessIds.add(id);
        for (const id of removed!) connection.awarenessIds.delete(id);
      }
      for (const id of [...added!, ...updated!, ...removed!]) this.awarenessChanged.add(id);
      if (!this.awarenessTimer) this.broadcastAwareness();
    });
  }

  /**
   * Presence goes out at once, then at most once per AWARENESS_BROADCAST_MS with every state that changed
   * meanwhile, in one message. Stock y-websocket clients echo each awareness message they receive, so a
   * message per change costs members² messages: 200 clients renewing their presence (every 15 s) were
   * 40,000 messages out and 40,000 echoes back, which stalled edits in the room for seconds.
   */
  private broadcastAwareness(): void {
    if (this.destroyed || !this.awarenessChanged.size) {
      this.awarenessTimer = null;
      return;
    }
    const changed = [...this.awarenessChanged];
    this.awarenessChanged.clear();
    const message = encoding.createEncoder();
    encoding.writeVarUint(message, MESSAGE.awareness);
    encoding.writeVarUint8Array(message, awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
    this.broadcast(encoding.toUint8Array(message));
    this.awarenessTimer = setTimeout(() => this.broadcastAwareness(), AWARENESS_BROADCAST_MS);
  }

  /** Loads the stored document. Throws when the workflow is gone or the database fails: never an empty doc. */
  static async load(workflowId: string, options: RoomOptions): Promise<Room> {
    const stored = await loadWorkflowState(options.db, workflowId);
    if (!stored) throw new Error(`Workflow ${workflowId} does not exist`);
    const room = new Room(workflowId, options);
    Y.applyUpdate(room.doc, stored.state, "storage");
    Y.applyUpdate(room.shadow, stored.state);
    room.log.holdThrough(stored.headSeq);
    room.estimatedBytes = stored.state.byteLength;
    room.workspaceId = stored.workspaceId;
    return room;
  }

  /**
   * An update made durable elsewhere (another collab process, an API edit): apply and broadcast, never
   * re-append. One that shows a gap (seqs beyond the next, or structs Yjs must park for missing
   * dependencies) gets the gap filled from the log shortly after, unless the missing update arrives first.
   */
  applyRelayed(update: Uint8Array, seqs?: SeqRange): void {
    if (this.destroyed) return;
    if (seqs && seqs.last <= this.log.through) return; // already held
    if (!this.tryOnShadow(update)) {
      this.options.logger.warn("collab relayed update rejected; reading the log instead", { workflowId: this.workflowId, seqs });
      void this.catchUp();
      return;
    }
    Y.applyUpdate(this.doc, update, "relay");
    if (seqs) this.log.add(seqs);
    this.scheduleMaterialise();
    this.checkForGap();
  }

  /** True when the document is missing something it knows of: a seq gap, or updates Yjs parked as pending. */
  get incomplete(): boolean {
    return this.log.hasGap || this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null;
  }

  private checkForGap(): void {
    if (!this.incomplete || this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (this.incomplete) void this.catchUp();
    }, this.options.gapFillAfterMs ?? 250);
  }

  /**
   * Reads what the log holds beyond `log.through` and applies it (anti-entropy and gap filling; see
   * docs/collab.md C7–C9). One read at a time; a request meanwhile runs one more read after it.
   */
  catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return this.catchingUp;
    }
    this.catchingUp = (async () => {
      try {
        do {
          this.catchUpAgain = false;
          await this.readLog();
        } while (this.catchUpAgain && !this.destroyed);
      } catch (error) {
        this.options.logger.warn("collab catch-up failed (the next anti-entropy pass retries)", { workflowId: this.workflowId, error });
      } finally {
        this.catchingUp = null;
      }
    })();
    return this.catchingUp;
  }

  private async readLog(): Promise<void> {
    const missing = await readWorkflowLogSince(this.options.db, this.workflowId, this.log.through);
    if (!missing || this.destroyed) return;
    const parts = missing.snapshot ? [missing.snapshot, ...missing.updates] : missing.updates;
    if (parts.length) {
      const update = parts.length === 1 ? parts[0]! : Y.mergeUpdates(parts);
      if (this.tryOnShadow(update)) Y.applyUpdate(this.doc, update, "relay");
      else this.options.logger.error("collab log update cannot be applied", { workflowId: this.workflowId, through: this.log.through });
      this.scheduleMaterialise();
    }
    this.log.holdThrough(missing.headSeq);
    if (this.doc.store.pendingStructs || this.doc.store.pendingDs) {
      this.options.logger.warn("collab document still waits for updates after reading the log", { workflowId: this.workflowId, through: this.log.through });
    }
  }

  join(socket: WebSocket, connection: Omit<Connection, "awarenessIds">): void {
    this.connections.set(socket, { ...connection, awarenessIds: new Set() });
    const sync = encoding.createEncoder();
    encoding.writeVarUint(sync, MESSAGE.sync);
    syncProtocol.writeSyncStep1(sync, this.doc);
    socket.send(encoding.toUint8Array(sync));
    const states = [...this.awareness.getStates().keys()];
    if (states.length) {
      const message = encoding.createEncoder();
      encoding.writeVarUint(message, MESSAGE.awareness);
      encoding.writeVarUint8Array(message, awarenessProtocol.encodeAwarenessUpdate(this.awareness, states));
      socket.send(encoding.toUint8Array(message));
    }
  }

  leave(socket: WebSocket): void {
    const connection = this.connections.get(socket);
    if (!connection) return;
    this.connections.delete(socket);
    for (const id of connection.awarenessIds) this.awarenessOwners.delete(id);
    awarenessProtocol.removeAwarenessStates(this.awareness, [...connection.awarenessIds], null);
  }

  /** Handles one message. Throws ProtocolError for malformed input (the caller closes that socket). */
  async receive(socket: WebSocket, data: Uint8Array): Promise<void> {
    const connection = this.connections.get(socket);
    if (!connection) return;
    let decoder: decoding.Decoder;
    let kind: number;
    try {
      decoder = decoding.createDecoder(data);
      kind = decoding.readVarUint(decoder);
    } catch {
      throw new ProtocolError("Unreadable message header");
    }
    switch (kind) {
      case MESSAGE.sync:
        return this.receiveSync(socket, connection, decoder);
      case MESSAGE.awareness: {
        let update: Uint8Array;
        try {
          update = stampAwareness(decoding.readVarUint8Array(decoder), connection, (clientId) => {
            const owner = this.awarenessOwners.get(clientId);
            if (owner && owner !== socket) return false;
            if (!connection.awarenessIds.has(clientId) && connection.awarenessIds.size >= COLLAB_MAX_PRESENCE_IDS_PER_SOCKET) {
              throw new ProtocolError(`A connection may hold at most ${COLLAB_MAX_PRESENCE_IDS_PER_SOCKET} presence entries`);
            }
            this.awarenessOwners.set(clientId, socket);
            connection.awarenessIds.add(clientId);
            return true;
          });
          awarenessProtocol.applyAwarenessUpdate(this.awareness, update, socket);
        } catch (error) {
          if (error instanceof ProtocolError) throw error;
          throw new ProtocolError("Malformed awareness update");
        }
        return;
      }
      case MESSAGE.queryAwareness: {
        const message = encoding.createEncoder();
        encoding.writeVarUint(message, MESSAGE.awareness);
        encoding.writeVarUint8Array(message, awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()]));
        socket.send(encoding.toUint8Array(message));
        return;
      }
      case MESSAGE.auth:
        return; // auth happens at connect time; nothing to do
      default:
        throw new ProtocolError(`Unknown message type ${kind}`);
    }
  }

  private async receiveSync(socket: WebSocket, connection: Connection, decoder: decoding.Decoder): Promise<void> {
    let step: number;
    let payload: Uint8Array;
    try {
      step = decoding.readVarUint(decoder);
      payload = decoding.readVarUint8Array(decoder);
    } catch {
      throw new ProtocolError("Malformed sync message");
    }
    if (step === syncProtocol.messageYjsSyncStep1) {
      const reply = encoding.createEncoder();
      encoding.writeVarUint(reply, MESSAGE.sync);
      try {
        syncProtocol.writeSyncStep2(reply, this.doc, payload);
      } catch {
        throw new ProtocolError("Malformed state vector");
      }
      socket.send(encoding.toUint8Array(reply));
      return;
    }
    if (step !== syncProtocol.messageYjsSyncStep2 && step !== syncProtocol.messageYjsUpdate) {
      throw new ProtocolError(`Unknown sync step ${step}`);
    }
    if (connection.readOnly) return; // viewers' edits are rejected, never applied
    let decoded: ReturnType<typeof Y.decodeUpdate>;
    try {
      decoded = Y.decodeUpdate(payload); // validate before it can reach storage
    } catch {
      throw new ProtocolError("Malformed document update");
    }
    if (isNoop(decoded)) return;
    const tried = this.mentionWatch.during(connection.userId, () => this.tryOnShadow(payload));
    if (!tried.result) throw new ProtocolError("Document update cannot be applied");
    if (this.outgrown(payload.byteLength)) {
      this.rebuildShadow(); // without the refused edit
      throw new DocumentTooLargeError(`The workflow document is limited to ${MAX_WORKFLOW_DOC_BYTES} bytes; this edit was not stored`);
    }
    await new Promise<void>((resolve, reject) => {
      this.pending.push({
        update: payload,
        from: socket,
        author: { id: connection.userId, name: connection.userName },
        mentions: tried.notices,
        done: (error) => (error ? reject(error) : resolve()),
      });
      this.flushing ??= this.flush();
    });
  }

  /** Group commit: append every pending update, then apply them in order (which broadcasts them). */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0);
        let seqs: SeqRange | null;
        try {
          seqs = await appendWorkflowUpdates(this.options.db, this.workflowId, batch.map((item) => item.update), batch.map((item) => item.author.id));
          if (!seqs) throw new Error(`Workflow ${this.workflowId} does not exist`);
        } catch (error) {
          this.options.logger.error("collab append failed", { workflowId: this.workflowId, error });
          for (const item of batch) item.done(error as Error);
          this.rebuildShadow(); // it holds the batch that was not stored
          continue;
        }
        for (const item of batch) {
          try {
            Y.applyUpdate(this.doc, item.update, item.from);
            item.done();
          } catch (error) {
            // Unreachable while the shadow check holds; never leave the sender waiting if it does not.
            this.options.logger.error("collab apply failed after append", { workflowId: this.workflowId, error });
            item.done(error as Error);
          }
        }
        this.log.add(seqs);
        for (const item of batch) {
          if (item.mentions.length) this.options.onMentions?.({ workspaceId: this.workspaceId, workflowId: this.workflowId }, item.author, item.mentions);
        }
        this.checkForGap(); // another process appended in between: its relay message may still come
        this.options.publish?.(this.workflowId, batch.length === 1 ? batch[0]!.update : Y.mergeUpdates(batch.map((item) => item.update)), seqs);
        this.appendedSinceCompaction += batch.length;
        this.scheduleMaterialise();
        if (this.appendedSinceCompaction >= this.options.compactEvery) {
          this.appendedSinceCompaction = 0;
          await compactWorkflowDoc(this.options.db, this.workflowId).catch((error) =>
            this.options.logger.warn("collab compaction failed (will retry later)", { workflowId: this.workflowId, error }),
          );
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * Whether the shadow (which now holds the new edit) is past MAX_WORKFLOW_DOC_BYTES. Cheap on the hot path:
   * the size is estimated by adding update sizes (an upper bound) and only measured when the estimate is over.
   */
  private outgrown(addedBytes: number): boolean {
    this.estimatedBytes += addedBytes;
    if (this.estimatedBytes <= MAX_WORKFLOW_DOC_BYTES) return false;
    this.estimatedBytes = Y.encodeStateAsUpdate(this.shadow).byteLength;
    return this.estimatedBytes > MAX_WORKFLOW_DOC_BYTES;
  }

  /** Applies an update to the shadow; false (and a fresh shadow) when Yjs cannot apply it. */
  private tryOnShadow(update: Uint8Array): boolean {
    try {
      Y.applyUpdate(this.shadow, update);
      return true;
    } catch {
      this.rebuildShadow();
      return false;
    }
  }

  private rebuildShadow(): void {
    this.shadow.destroy();
    this.shadow = new Y.Doc({ gc: true });
    Y.applyUpdate(this.shadow, Y.encodeStateAsUpdate(this.doc));
    for (const item of this.pending) Y.applyUpdate(this.shadow, item.update);
    this.mentionWatch = new MentionWatch(this.shadow); // after the refill: what it holds was noticed when it came
  }

  private scheduleMaterialise() {
    this.dirty = true;
    if (this.materialiseTimer) clearTimeout(this.materialiseTimer);
    this.materialiseTimer = setTimeout(() => void this.materialise(), this.options.materialiseAfterMs);
  }

  private async materialise(): Promise<void> {
    if (this.materialiseTimer) clearTimeout(this.materialiseTimer);
    this.materialiseTimer = null;
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await materialiseDefinition(this.options.db, this.workflowId, this.doc);
    } catch (error) {
      this.dirty = true;
      this.options.logger.warn("collab materialise failed", { workflowId: this.workflowId, error });
    }
  }

  /** Waits for in-flight appends, then materialises and compacts. Called when the room empties and on shutdown. */
  async flushAll(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.materialise();
    await compactWorkflowDoc(this.options.db, this.workflowId).catch((error) =>
      this.options.logger.warn("collab compaction failed", { workflowId: this.workflowId, error }),
    );
  }

  destroy(): void {
    this.destroyed = true;
    if (this.materialiseTimer) clearTimeout(this.materialiseTimer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    if (this.awarenessTimer) clearTimeout(this.awarenessTimer);
    this.awareness.destroy();
    this.doc.destroy();
    this.shadow.destroy();
  }

  private broadcastUpdate(update: Uint8Array, origin: unknown) {
    if (origin === "storage") return;
    const message = encoding.createEncoder();
    encoding.writeVarUint(message, MESSAGE.sync);
    syncProtocol.writeUpdate(message, update);
    this.broadcast(encoding.toUint8Array(message));
  }

  private broadcast(message: Uint8Array) {
    for (const socket of this.connections.keys()) {
      if (socket.readyState === socket.OPEN) socket.send(message);
    }
  }

  closeAll(code: number = COLLAB_CLOSE.UNAVAILABLE, reason = "Server shutting down") {
    for (const socket of this.connections.keys()) socket.close(code, reason);
  }
}

/**
 * Presence cannot be spoofed: every awareness state a socket sends is stamped with its authenticated user's
 * id and name (clients add colour, cursor and selected step). Wire format: count, then per client its id,
 * clock and JSON state (y-protocols/awareness).
 */
function stampAwareness(
  update: Uint8Array,
  connection: Pick<Connection, "userId" | "userName" | "awarenessIds">,
  mayControl: (clientId: number) => boolean,
): Uint8Array {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const entries: { clientId: number; clock: number; state: string }[] = [];
  for (let index = 0; index < count; index++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const raw = decoding.readVarString(decoder);
    if (raw.length > COLLAB_MAX_PRESENCE_STATE_BYTES) throw new ProtocolError(`A presence state is limited to ${COLLAB_MAX_PRESENCE_STATE_BYTES} bytes`);
    const state = JSON.parse(raw) as unknown;
    // y-websocket clients echo every awareness change they see, so a departed client's removal comes back
    // from everyone still in the room: a removal of an id this socket does not hold is no claim on it (C4).
    if (state === null && !connection.awarenessIds.has(clientId)) continue;
    if (!mayControl(clientId)) continue; // another connection's presence: not this socket's to change
    if (state !== null && typeof state === "object" && !Array.isArray(state)) {
      const user = (state as { user?: unknown }).user;
      (state as { user: unknown }).user = { ...(user && typeof user === "object" ? user : {}), id: connection.userId, name: connection.userName };
    }
    entries.push({ clientId, clock, state: JSON.stringify(state) });
  }
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.state);
  }
  return encoding.toUint8Array(encoder);
}

/** An update that carries no structs and no deletions (y-websocket sends one on every sync). */
function isNoop({ structs, ds }: ReturnType<typeof Y.decodeUpdate>): boolean {
  return structs.length === 0 && ds.clients.size === 0;
}
