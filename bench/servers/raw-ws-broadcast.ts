/**
 * Peer of the subscriptions scenario: a raw `ws` broadcast fed from the same Redis channels as our
 * runEvents subscription (`<prefix>run-events:<runId>`): one subscriber connection, each message forwarded
 * as-is to the sockets that asked for that run (`/events?runId=...`). No auth, no GraphQL.
 */
import { Redis } from "ioredis";
import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";

const prefix = process.env.REDIS_PREFIX ?? "";
const subscriber = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const sockets = new Map<string, Set<WebSocket>>();
subscriber.on("message", (channel: string, message: string) => {
  for (const socket of sockets.get(channel) ?? []) socket.send(message);
});

const wss = new WebSocketServer({ noServer: true });
const server = createServer((_request, response) => response.writeHead(404).end());
server.on("upgrade", (request, socket, head) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  const runId = url.searchParams.get("runId");
  if (url.pathname !== "/events" || !runId) return socket.destroy();
  const channel = `${prefix}run-events:${runId}`;
  wss.handleUpgrade(request, socket, head, async (ws) => {
    let set = sockets.get(channel);
    if (!set) {
      sockets.set(channel, (set = new Set()));
      await subscriber.subscribe(channel);
    }
    set.add(ws);
    ws.on("close", () => set.delete(ws));
    ws.send(JSON.stringify({ subscribed: runId }));
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ ready: true, url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` });
});
process.on("SIGTERM", () => {
  for (const client of wss.clients) client.terminate();
  subscriber.disconnect();
  server.close(() => process.exit(0));
});
// The bench died without stopping us: do not live on as an orphan.
process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
