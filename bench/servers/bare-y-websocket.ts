/**
 * Peer of the Yjs scenario: the reference server, `@y/websocket-server` 0.1.1 (`setupWSConnection`), on the
 * same port setup as ours — node:http, `ws` in noServer mode, rooms at /collab/<workflowId>. No auth, no storage.
 */
import { setupWSConnection } from "@y/websocket-server/utils";
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const PREFIX = "/collab/";
const wss = new WebSocketServer({ noServer: true });
const server = createServer((_request, response) => response.writeHead(404).end());
server.on("upgrade", (request, socket, head) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (!url.pathname.startsWith(PREFIX)) return socket.destroy();
  const room = decodeURIComponent(url.pathname.slice(PREFIX.length));
  wss.handleUpgrade(request, socket, head, (ws) => setupWSConnection(ws, request, { docName: room, gc: true }));
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ ready: true, url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` });
});
process.on("SIGTERM", () => {
  for (const client of wss.clients) client.terminate();
  server.close(() => process.exit(0));
});
// The bench died without stopping us: do not live on as an orphan.
process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
