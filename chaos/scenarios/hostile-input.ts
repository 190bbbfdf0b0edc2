/**
 * 7. Hostile collab input on both processes: truncated, random and oversized frames, a well-framed update that
 * is not a Yjs update, and a viewer deleting every step. The processes must stay up and the document intact.
 */
import { COLLAB_MAX_MESSAGE_BYTES, COLLAB_PATH_PREFIX, docMaps } from "@algorythmos/domain";
import * as encoding from "lib0/encoding";
import WebSocket from "ws";
import * as Y from "yjs";
import { createWorkflow, invite, signUp } from "../lib/api.js";
import { connectEditor, durableDoc, fingerprint, probeProcess, waitSynced } from "../lib/collab.js";
import { info, tally, yes, zero } from "../lib/report.js";
import { sleep } from "../lib/util.js";
import type { Scenario } from "../suite.js";

/** A y-websocket sync "update" message (type 0, step 2) around `payload`. */
function syncUpdate(payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, 2);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

/** Opens a raw socket, sends `frame`, and resolves with the close code (or "open" if still open after 3 s). */
async function sendHostile(collabUrl: string, workflowId: string, token: string, frame: Uint8Array): Promise<string> {
  const url = `${collabUrl.replace(/^http/, "ws")}${COLLAB_PATH_PREFIX}${encodeURIComponent(workflowId)}?token=${encodeURIComponent(token)}`;
  const socket = new WebSocket(url);
  socket.on("error", () => {});
  const closed = new Promise<string>((resolve) => socket.on("close", (code) => resolve(String(code))));
  const opened = await Promise.race([new Promise<boolean>((resolve) => socket.once("open", () => resolve(true))), closed.then(() => false), sleep(5_000).then(() => false)]);
  if (!opened) return `not opened (${await Promise.race([closed, sleep(10).then(() => "-")])})`;
  await sleep(100); // let the server's first sync message arrive
  socket.send(frame);
  const code = await Promise.race([closed, sleep(3_000).then(() => "open")]);
  if (code === "open") socket.terminate();
  return code;
}

export const hostileInput: Scenario = {
  name: "hostile-input",
  title: "hostile collab input (truncated, random, oversized frames, viewer deletes)",
  async run(context) {
    const { cluster, owner } = context;
    const api = cluster.servers[0]!.url;
    const steps = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, type: "transform", name: `Step ${i}`, config: { expression: String(i) }, position: { x: i * 200, y: 0 } }));
    const workflowId = await createWorkflow(api, owner, {
      schemaVersion: 1,
      name: "chaos hostile",
      description: "",
      steps: [{ id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } }, ...steps],
      edges: [],
    });
    const viewerUser = await signUp(api, "Viewer");
    await invite(api, owner, viewerUser, "viewer");
    const watcher = connectEditor("watcher", cluster.collabs[0]!.url, workflowId, owner.token);
    const exitsBefore = cluster.collabs.map((collab) => collab.exits);
    try {
      await waitSynced([watcher]);
      const before = fingerprint(watcher.doc);
      const nameBefore = String(docMaps(watcher.doc).meta.get("name"));

      const frames: [string, Uint8Array][] = [];
      const valid = syncUpdate(Y.encodeStateAsUpdate(watcher.doc));
      frames.push(["truncated update", valid.subarray(0, Math.max(3, Math.floor(valid.length / 2)))]);
      frames.push(["truncated varint", new Uint8Array([0, 2, 0xff, 0xff, 0xff])]);
      frames.push(["unknown message type", new Uint8Array([99, 1, 2, 3])]);
      frames.push(["not a Yjs update", syncUpdate(Uint8Array.from({ length: 200 }, () => Math.floor(context.random() * 256)))]);
      const randomFrames = context.scale(40, 8);
      for (let i = 0; i < randomFrames; i++) {
        frames.push([`random ${i}`, Uint8Array.from({ length: 1 + Math.floor(context.random() * 4_000) }, () => Math.floor(context.random() * 256))]);
      }
      frames.push(["over the message limit", syncUpdate(new Uint8Array(COLLAB_MAX_MESSAGE_BYTES + 1_024))]);
      frames.push(["over the socket payload limit (3 MB)", new Uint8Array(3 * 1024 * 1024)]);

      const codes: string[] = [];
      for (const [index, [, frame]] of frames.entries()) {
        codes.push(await sendHostile(cluster.collabs[index % 2]!.url, workflowId, owner.token, frame));
      }

      // A viewer deletes every step and renames the workflow in its own copy; the server must drop it.
      const viewer = connectEditor("viewer", cluster.collabs[1]!.url, workflowId, viewerUser.token);
      try {
        await waitSynced([viewer]);
        viewer.doc.transact(() => {
          const maps = docMaps(viewer.doc);
          for (const key of [...maps.steps.keys()]) maps.steps.delete(key);
          maps.meta.set("name", "owned by a viewer");
        });
        await sleep(1_500);
      } finally {
        viewer.provider.destroy();
      }

      const healthy = await Promise.all(
        cluster.collabs.map(async (collab) => (await fetch(`${collab.url}/healthz`).catch(() => null))?.status === 200),
      );
      const alive = cluster.collabs.every((collab, index) => collab.alive && collab.exits === exitsBefore[index]);
      const durable = await durableDoc(cluster.postgres.url, workflowId);
      const probes = await Promise.all(cluster.collabs.map((collab) => probeProcess(collab.url, workflowId, owner.token)));
      const views = { watcher: watcher.doc, log: durable, "collab-0": probes[0] ?? null, "collab-1": probes[1] ?? null };
      const changed = Object.entries(views)
        .filter(([, doc]) => doc === null || fingerprint(doc) !== before || String(docMaps(doc).meta.get("name")) !== nameBefore)
        .map(([name, doc]) => `${name}: ${doc ? `${docMaps(doc).steps.size} steps, name ${JSON.stringify(String(docMaps(doc).meta.get("name")))}, ${fingerprint(doc)}` : "did not sync"}`);
      if (changed.length) context.notes.push(`hostile-input: before ${before}; changed: ${changed.join("; ")}`);
      const intact = changed.length === 0;
      const stepsLeft = docMaps(durable).steps.size;
      return [
        info("hostile frames sent", frames.length),
        info("close codes", tally(codes)),
        info("hostile sockets the server kept open (frames that happened to parse)", codes.filter((code) => code === "open").length),
        yes("both collab processes alive and healthy", alive && healthy.every(Boolean)),
        yes("document intact (watcher, log and both processes)", intact),
        zero("steps deleted by the viewer", steps.length + 1 - stepsLeft),
      ];
    } finally {
      watcher.provider.destroy();
    }
  },
};
