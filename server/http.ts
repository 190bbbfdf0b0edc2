import { serve, type ServerType } from "@hono/node-server";
import type { Hono } from "hono";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { useServer } from "graphql-ws/use/ws";
import { GraphQLError, type ExecutionArgs } from "graphql";
import type { Yoga } from "./graphql/yoga.js";

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpServer {
  server: ServerType;
  port: number;
  close(): Promise<void>;
}

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
  const graphqlSockets = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  const disposeGraphqlWs = useServer(
    {
      execute: (args) => (args.rootValue as { execute(a: ExecutionArgs): unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe(a: ExecutionArgs): unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = options.yoga.getEnveloped({
          ...ctx,
          upgradeRequest: ctx.extra.request,
          connectionParams: ctx.connectionParams,
          params,
        });
        try {
          // Parse and validate (query limits included) before the context, which reads the database.
          const document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length) return errors;
          return {
            schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          } satisfies ExecutionArgs;
        } catch (error) {
          // The caller's fault (bad query, bad token): an error message, not a server error close.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
    },
    graphqlSockets,
  );

  const upgrades: Record<string, UpgradeHandler> = {
    "/graphql": (request, socket, head) =>
      graphqlSockets.handleUpgrade(request, socket, head, (ws) => graphqlSockets.emit("connection", ws, request)),
    ...options.upgrades,
  };

  const server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: options.app.fetch, port: options.port, hostname: options.host }, () => resolve(started));
  });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? "/").split("?")[0]!;
    const match = Object.keys(upgrades).find((prefix) => path === prefix || (prefix.endsWith("/") && path.startsWith(prefix)));
    if (!match) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    upgrades[match]!(request, socket, head);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  return {
    server,
    port,
    async close() {
      await disposeGraphqlWs.dispose();
      for (const client of graphqlSockets.clients) client.terminate();
      graphqlSockets.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections would hold close() open.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}
