/**
 * Peer of the Yjs scenario that stores: `@hocuspocus/server` 3.4.4 with `@hocuspocus/extension-database`, its
 * defaults (stores debounced: 2 s after the last change, at most every 10 s), storing each document's state
 * to the same PostgreSQL as ours (table `hocuspocus_documents` in the bench database). Same set-up as the
 * bare peer: node:http, `ws` in noServer mode, sockets at /collab/<workflowId>. No auth.
 */
import { Database } from "@hocuspocus/extension-database";
import { Hocuspocus } from "@hocuspocus/server";
import { createServer } from "node:http";
import pg from "pg";
import { WebSocketServer } from "ws";

const PREFIX = "/collab/";
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
await pool.query(`CREATE TABLE IF NOT EXISTS hocuspocus_documents (name text PRIMARY KEY, data bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);

const hocuspocus = new Hocuspocus({
  quiet: true,
  extensions: [
    new Database({
      fetch: async ({ documentName }) => {
        const { rows } = await pool.query<{ data: Buffer }>(`SELECT data FROM hocuspocus_documents WHERE name = $1`, [documentName]);
        return rows[0] ? new Uint8Array(rows[0].data) : null;
      },
      store: async ({ documentName, state }) => {
        await pool.query(
          `INSERT INTO hocuspocus_documents (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`,
          [documentName, state],
        );
      },
    }),
  ],
});

const wss = new WebSocketServer({ noServer: true });
const server = createServer((_request, response) => response.writeHead(404).end());
server.on("upgrade", (request, socket, head) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (!url.pathname.startsWith(PREFIX)) return socket.destroy();
  wss.handleUpgrade(request, socket, head, (ws) => hocuspocus.handleConnection(ws, request));
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ ready: true, url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` });
});
process.on("SIGTERM", () => {
  for (const client of wss.clients) client.terminate();
  server.close();
  void pool.end().finally(() => process.exit(0));
});
// The bench died without stopping us: do not live on as an orphan.
process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
