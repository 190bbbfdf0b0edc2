import { GraphQLError, type ExecutionArgs, type ExecutionResult } from "graphql";
import { CloseCode, type Context as GraphqlWsContext } from "graphql-ws";
import { useServer, type Extra } from "graphql-ws/use/ws";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { Yoga } from "./yoga.js";

/**
 * Close codes of GraphQL over WebSocket (graphql-ws) besides the protocol's own (4400, 4401, 4408, 4409,
 * 4429, 4500; 1001 when the server stops). graphql-ws clients treat 4403 as final and retry on 4503.
 */
export const GRAPHQL_WS_CLOSE = {
  /** `connection_init` carried a token that is invalid, expired or revoked: refused before `connection_ack`. */
  FORBIDDEN: CloseCode.Forbidden,
  /** PostgreSQL or Redis was unreachable while checking the connection: connect again shortly. */
  UNAVAILABLE: 4503,
} as const;

type Context = GraphqlWsContext<Record<string, unknown> | undefined, Extra>;

/**
 * An error as a WebSocket message carries it. graphql-ws wraps an error thrown by a subscription's stream in a
 * new GraphQLError without its `path`: the one inside is the field error. And `extensions.http` tells Yoga the
 * HTTP status of a refusal; a WebSocket message has no status to set.
 */
function withoutHttp(wrapped: GraphQLError): GraphQLError {
  const error = !wrapped.path && wrapped.originalError instanceof GraphQLError ? wrapped.originalError : wrapped;
  if (!error.extensions?.http) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions });
}

/**
 * GraphQL over WebSocket (graphql-transport-ws) on Yoga's envelop: the same parse, validation (query limits)
 * and context as HTTP. Credentials are checked at `connection_init`: a bad token closes the socket (4403),
 * it is never acknowledged. Each subscribe authenticates again, so a session ended since is refused.
 */
export function graphqlWebSocketServer(yoga: Yoga): { handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void; dispose(): Promise<void> } {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  const envelop = (ctx: Context, params?: unknown) => yoga.getEnveloped({ ...ctx, upgradeRequest: ctx.extra.request, connectionParams: ctx.connectionParams, params });
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as { execute(a: ExecutionArgs): unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe(a: ExecutionArgs): unknown }).subscribe(args) as never,
      onConnect: async (ctx) => {
        try {
          await envelop(ctx).contextFactory(); // authenticates the connection params (or the session cookie)
          return true;
        } catch (error) {
          const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
          if (code === "UNAUTHENTICATED") ctx.extra.socket.close(GRAPHQL_WS_CLOSE.FORBIDDEN, (error as GraphQLError).message);
          else if (code === "SERVICE_UNAVAILABLE") ctx.extra.socket.close(GRAPHQL_WS_CLOSE.UNAVAILABLE, "The studio's database or Redis is unreachable; retry shortly");
          else throw error;
          return false;
        }
      },
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = envelop(ctx, params);
        try {
          // Parse and validate (query limits included) before the context, which reads the database.
          const document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length) return errors.map(withoutHttp);
          return {
            schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          } satisfies ExecutionArgs;
        } catch (error) {
          // The caller's fault (bad query, a session ended since connecting): an error message, not a server error close.
          if (error instanceof GraphQLError) return [withoutHttp(error)];
          throw error;
        }
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        const errors = (result as ExecutionResult).errors;
        if (!errors?.some((error) => error.extensions?.http)) return;
        return { ...result, errors: errors.map(withoutHttp) } as never;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(withoutHttp),
    },
    sockets,
  );
  return {
    handleUpgrade: (request, socket, head) => sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit("connection", ws, request)),
    async dispose() {
      await disposable.dispose(); // closes every graphql-ws socket with 1001 Going Away
      sockets.close();
    },
  };
}
