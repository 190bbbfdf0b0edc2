/**
 * Custom Node y-websocket clients: the standard `y-websocket` provider (what the studio uses) on `ws`,
 * one Y.Doc per client. A writer edits `meta.description` (a workflow's description, an ordinary edit in
 * our document layout) to a sequence number; receivers read it back from the update they get and record
 * the time since the writer made the edit (same process, same clock).
 */
import { HocuspocusProvider } from "@hocuspocus/provider";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { pool, sleep } from "./stats.js";

export interface YClient {
  doc: Y.Doc;
  /** Also the origin of the updates it applies from the server. */
  provider: WebsocketProvider | HocuspocusProvider;
  room: string;
}

export interface Rooms {
  clients: YClient[][];
  close(): void;
}

/** Connects `perRoom` clients to each room, `concurrency` connections at a time, and waits until all are synced. */
export async function connectRooms(base: string, rooms: string[], perRoom: number, token: string | null, concurrency = 50): Promise<Rooms> {
  process.setMaxListeners(Math.max(process.getMaxListeners(), rooms.length * perRoom * 2 + 20)); // y-websocket adds an exit listener per provider
  const jobs = rooms.flatMap((room, r) => Array.from({ length: perRoom }, (_, c) => ({ room, r, c })));
  const clients: YClient[][] = rooms.map(() => []);
  await pool(jobs, concurrency, async ({ room, r, c }) => {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(base, room, doc, {
      WebSocketPolyfill: WebSocket as never,
      params: token ? { token } : {},
      disableBc: true,
      maxBackoffTime: 1_000,
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`client ${c} of room ${room} did not sync within 30 s`)), 30_000);
      provider.once("sync", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    clients[r]![c] = { doc, provider, room };
  });
  return {
    clients,
    close() {
      for (const room of clients) for (const client of room) client.provider.destroy();
    },
  };
}

/**
 * The same, with Hocuspocus's own provider (Hocuspocus speaks its own framing: the document name in every
 * message), each client on a socket of its own at `<base>/<room>`.
 */
export async function connectHocuspocusRooms(base: string, rooms: string[], perRoom: number, concurrency = 50): Promise<Rooms> {
  const jobs = rooms.flatMap((room, r) => Array.from({ length: perRoom }, (_, c) => ({ room, r, c })));
  const clients: YClient[][] = rooms.map(() => []);
  await pool(jobs, concurrency, async ({ room, r, c }) => {
    const doc = new Y.Doc();
    const provider = new HocuspocusProvider({ url: `${base}/${encodeURIComponent(room)}`, name: room, document: doc, WebSocketPolyfill: WebSocket, quiet: true } as never);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Hocuspocus client ${c} of room ${room} did not sync within 30 s`)), 30_000);
      provider.on("synced", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    clients[r]![c] = { doc, provider, room };
  });
  return {
    clients,
    close() {
      for (const room of clients) for (const client of room) client.provider.destroy();
    },
  };
}

/**
 * In every room client 0 writes, the others receive. `updates` edits are made, spread evenly over
 * `durationMs`, round-robin over the rooms. Returns one latency (ms) per update received.
 */
export async function measurePropagation(rooms: Rooms, updates: number, durationMs: number): Promise<{ samples: number[]; expected: number }> {
  const sent = new Map<number, number>();
  const samples: number[] = [];
  const listeners: (() => void)[] = [];
  for (const room of rooms.clients) {
    for (const receiver of room.slice(1)) {
      const meta = receiver.doc.getMap("meta");
      let last = -1;
      const onUpdate = (_update: Uint8Array, origin: unknown) => {
        if (origin !== receiver.provider) return;
        const value = meta.get("description");
        if (typeof value !== "string" || !value.startsWith("bench ")) return;
        const seq = Number(value.slice(6));
        if (seq === last) return;
        last = seq;
        const at = sent.get(seq);
        if (at !== undefined) samples.push(performance.now() - at);
      };
      receiver.doc.on("update", onUpdate);
      listeners.push(() => receiver.doc.off("update", onUpdate));
    }
  }
  const base = Date.now() * 10; // unique across rounds
  const interval = durationMs / updates;
  const started = performance.now();
  let expected = 0;
  for (let i = 0; i < updates; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const room = rooms.clients[i % rooms.clients.length]!;
    const seq = base + i;
    sent.set(seq, performance.now());
    room[0]!.doc.getMap("meta").set("description", `bench ${seq}`);
    expected += room.length - 1;
  }
  // Let the last updates arrive (bounded).
  const deadline = performance.now() + 5_000;
  while (samples.length < expected && performance.now() < deadline) await sleep(20);
  for (const off of listeners) off();
  return { samples, expected };
}
