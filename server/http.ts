import { serve, type ServerType } from "@hono/node-server";
import type { Hono } from "hono";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Server as NetServer } from "node:net";
import type { Duplex } from "node:stream";
import { graphqlWebSocketServer } from "./graphql/ws.js";
import type { Yoga } from "./graphql/yoga.js";

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpServer {
  server: ServerType;
  port: number;
  /**
   * Graceful stop: no new connections; WebSocket subscriptions closed with 1001 (graphql-ws clients
   * reconnect and subscribe again, elsewhere behind a load balancer); ordinary requests in flight finish
   * (up to `drainMs`); then event streams (SSE) and anything left are ended, and EventSource-style clients
   * reconnect. Subscriptions replay from the start (`runEvents`), so a resumed subscriber misses nothing.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

/** How long a draining server waits with nothing in flight for a request on a connection it already has. */
const QUIET_MS = 300;

/** Long-lived answers (GraphQL over SSE): not waited for on shutdown, ended after the others. */
const isEventStream = (request: IncomingMessage) => (request.headers.accept ?? "").includes("text/event-stream");

/**
 * Serves the Hono app and routes WebSocket upgrades by path: /graphql to graphql-ws, and any extra
 * prefixes given (the default `npm start` mounts the collab service at /collab/ on the same origin).
 */
export async function startHttpServer(options: {
  app: Hono;
  yoga: Yoga;
  port: number;
  host: string;
  upgrades?: Record<string, UpgradeHandler>;
}): Promise<HttpServer> {
  const graphqlWs = graphqlWebSocketServer(options.yoga);

  const upgrades: Record<string, UpgradeHandler> = {
    "/graphql": graphqlWs.handleUpgrade,
    ...options.upgrades,
  };

  const server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: options.app.fetch, port: options.port, hostname: options.host }, () => resolve(started));
  });
  const inFlight = new Set<ServerResponse>();
  const streams = new Set<ServerResponse>();
  let draining = false;
  let lastRequestAt = 0;
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    lastRequestAt = Date.now();
    // While draining, each connection is closed after its answer, so no client sends on it again.
    if (draining) response.setHeader("Connection", "close");
    const set = isEventStream(request) ? streams : inFlight;
    set.add(response);
    response.once("close", () => set.delete(response));
  });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A socket error before a handler takes the socket (a client resetting mid-handshake) must not crash.
    socket.on("error", () => socket.destroy());
    const path = (request.url ?? "/").split("?")[0]!;
    const match = Object.keys(upgrades).find((prefix) => path === prefix || (prefix.endsWith("/") && path.startsWith(prefix)));
    if (!match) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    try {
      upgrades[match]!(request, socket, head);
    } catch {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    }
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  return {
    server,
    port,
    async close({ drainMs = 10_000 } = {}) {
      const node = server as Server;
      draining = true;
      // Stop listening without http.Server#close's closeIdleConnections(): a connection a client just opened
      // is "idle" until its request arrives, and closing it would reset a request the client already sent.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(node, () => resolve()));
      await graphqlWs.dispose(); // closes every graphql-ws socket with 1001 Going Away
      // Connections already open may still carry a request (a client that just connected sends it within
      // milliseconds): serve until nothing is in flight and nothing new came for a moment, or the deadline.
      const deadline = Date.now() + drainMs;
      while (Date.now() < deadline && (inFlight.size > 0 || Date.now() - lastRequestAt < QUIET_MS)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const response of streams) response.end();
      node.closeAllConnections();
      await closed;
    },
  };
}
