/**
 * Co-editing under faults: editors are the stock y-websocket `WebsocketProvider` (with `ws` as its
 * WebSocketPolyfill, as the studio's tests make them) on both collab processes, each adding steps to the
 * workflow's `steps` map. An edit counts as acknowledged once another client has received it (the collab
 * service broadcasts only after the durable append, so a peer seeing it means it is in PostgreSQL).
 * Divergence is the time from the end of a fault until every client, every collab process (a fresh probe
 * client per process) and the durable log hold the same document: same state vector, same steps.
 */
import { COLLAB_PATH_PREFIX, createStepMap, docMaps } from "@algorythmos/domain";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { withPg } from "./api.js";
import { sleep } from "./util.js";

export const collabBase = (httpUrl: string) => httpUrl.replace(/^http/, "ws") + COLLAB_PATH_PREFIX.replace(/\/$/, "");

export interface Editor {
  name: string;
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Keys of the steps this editor added. */
  made: string[];
  closeCodes: number[];
}

export function connectEditor(name: string, collabUrl: string, workflowId: string, token: string): Editor {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(collabBase(collabUrl), workflowId, doc, {
    WebSocketPolyfill: WebSocket as never,
    params: { token },
    disableBc: true,
    maxBackoffTime: 500,
  });
  const editor: Editor = { name, doc, provider, made: [], closeCodes: [] };
  provider.on("connection-close", (event: { code: number } | null) => {
    if (event) editor.closeCodes.push(event.code);
  });
  return editor;
}

export async function waitSynced(editors: Editor[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!editors.every((editor) => editor.provider.synced)) {
    if (Date.now() > deadline) throw new Error(`editors not synced after ${timeoutMs} ms: ${editors.filter((e) => !e.provider.synced).map((e) => e.name).join(", ")}`);
    await sleep(50);
  }
}

/** One edit: a new transform step, keyed `<editor>-<n>`. */
export function addStep(editor: Editor) {
  const id = `${editor.name}-${editor.made.length}`;
  const { steps } = docMaps(editor.doc);
  editor.doc.transact(() => {
    steps.set(id, createStepMap({ id, type: "transform", name: id, config: { expression: "1" }, position: { x: editor.made.length * 10, y: 0 } }) as never);
  });
  editor.made.push(id);
}

/**
 * Every editor adds a step every `everyMs` until `stop()`; tracks which edits were acknowledged (seen by a
 * client other than their author).
 */
export function startEditing(editors: Editor[], everyMs: number, maxEdits = 2_000) {
  const acknowledged = new Set<string>();
  const authorOf = (key: string) => key.slice(0, key.lastIndexOf("-"));
  const observers = editors.map((editor) => {
    const observe = (event: Y.YMapEvent<unknown>) => {
      for (const key of event.keysChanged) if (authorOf(key) !== editor.name) acknowledged.add(key);
    };
    docMaps(editor.doc).steps.observe(observe as never);
    return () => docMaps(editor.doc).steps.unobserve(observe as never);
  });
  let running = true;
  const loops = editors.map(async (editor, index) => {
    await sleep((everyMs / editors.length) * index);
    while (running && editor.made.length < maxEdits) {
      addStep(editor);
      await sleep(everyMs);
    }
  });
  return {
    acknowledged,
    get made() {
      return editors.reduce((sum, editor) => sum + editor.made.length, 0);
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
    detach() {
      for (const off of observers) off();
    },
  };
}

/** The document as PostgreSQL holds it: the snapshot plus every logged update. */
export async function durableDoc(databaseUrl: string, workflowId: string): Promise<Y.Doc> {
  return withPg(databaseUrl, async (client) => {
    const doc = new Y.Doc();
    const snapshot = await client.query<{ yjsState: Buffer | null }>(`SELECT "yjsState" FROM "Workflow" WHERE id = $1`, [workflowId]);
    const state = snapshot.rows[0]?.yjsState;
    if (state?.length) Y.applyUpdate(doc, new Uint8Array(state));
    const updates = await client.query<{ update: Buffer }>(`SELECT "update" FROM "WorkflowUpdate" WHERE "workflowId" = $1 ORDER BY id`, [workflowId]);
    for (const row of updates.rows) Y.applyUpdate(doc, new Uint8Array(row.update));
    return doc;
  });
}

/** A fresh, empty client on one collab process: what it receives is that process's document. */
export async function probeProcess(collabUrl: string, workflowId: string, token: string, timeoutMs = 3_000): Promise<Y.Doc | null> {
  const probe = connectEditor("probe", collabUrl, workflowId, token);
  try {
    const deadline = Date.now() + timeoutMs;
    while (!probe.provider.synced) {
      if (Date.now() > deadline) return null;
      await sleep(25);
    }
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(probe.doc));
    return copy;
  } finally {
    probe.provider.destroy();
  }
}

/** Comparable fingerprint of a document: its state vector and its sorted step keys. */
export function fingerprint(doc: Y.Doc) {
  const vector = [...Y.decodeStateVector(Y.encodeStateVector(doc)).entries()].sort((a, b) => a[0] - b[0]);
  return JSON.stringify([vector, [...docMaps(doc).steps.keys()].sort()]);
}

export interface Convergence {
  /** ms from `since` until everyone agreed; null when they did not within the bound. */
  divergenceMs: number | null;
  /** Acknowledged edits missing from the converged (or, failing that, the durable) document. */
  lostAcknowledged: number;
  /** Edits (acknowledged or not) missing from the final durable document. */
  missingAny: number;
  detail: string;
}

/**
 * Polls until every editor, every collab process and the durable log hold the same document with every edit
 * made, bounded by `timeoutMs`; then counts what is missing.
 */
export async function measureConvergence(options: {
  editors: Editor[];
  collabUrls: string[];
  databaseUrl: string;
  workflowId: string;
  token: string;
  acknowledged: Set<string>;
  since: number;
  timeoutMs: number;
}): Promise<Convergence> {
  const made = options.editors.flatMap((editor) => editor.made);
  const deadline = options.since + options.timeoutMs;
  let divergenceMs: number | null = null;
  let detail = "";
  for (let round = 0; Date.now() < deadline && round < 10_000; round++) {
    const clientPrints = options.editors.map((editor) => fingerprint(editor.doc));
    const durable = await durableDoc(options.databaseUrl, options.workflowId).catch(() => null);
    const durablePrint = durable ? fingerprint(durable) : "unreadable";
    const everyEdit = durable ? made.every((key) => docMaps(durable).steps.has(key)) : false;
    if (everyEdit && clientPrints.every((print) => print === durablePrint)) {
      const probes = await Promise.all(options.collabUrls.map((url) => probeProcess(url, options.workflowId, options.token)));
      if (probes.every((probe) => probe && fingerprint(probe) === durablePrint)) {
        divergenceMs = Date.now() - options.since;
        break;
      }
      detail = `processes differ: ${probes.map((probe) => (probe ? docMaps(probe).steps.size : "no sync")).join("/")} steps`;
    } else {
      const counts = options.editors.map((editor) => docMaps(editor.doc).steps.size);
      detail = `clients hold ${counts.join("/")} steps, durable ${durable ? docMaps(durable).steps.size : "unreadable"} of ${made.length + 1}`;
    }
    await sleep(200);
  }
  const final = await durableDoc(options.databaseUrl, options.workflowId).catch(() => null);
  const present = new Set(final ? [...docMaps(final).steps.keys()] : []);
  return {
    divergenceMs,
    lostAcknowledged: [...options.acknowledged].filter((key) => !present.has(key)).length,
    missingAny: made.filter((key) => !present.has(key)).length,
    detail: divergenceMs === null ? detail : "",
  };
}
