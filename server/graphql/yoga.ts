import { authenticateUpgrade, graphqlTelemetry } from "@algorythmos/platform";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError, NoSchemaIntrospectionCustomRule } from "graphql";
import type { Plugin } from "graphql-yoga";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import type { IncomingMessage } from "node:http";
import { callerFromRequest, sessionRevocations } from "../auth.js";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, expectedError } from "../errors.js";
import { corsFor } from "../origins.js";
import type { ChannelHub } from "../realtime.js";
import type { GraphQLContext } from "./builder.js";
import { pricedFieldsCheck } from "./cost.js";
import { httpStatusPolicy } from "./http-status.js";
import { perQueryReads } from "./request-reads.js";
import { schema } from "./schema.js";
import { sharedSubscriptionEvents } from "./shared-events.js";

/** Set on WebSocket (graphql-ws) contexts by server/http.ts. */
interface WebSocketInitialContext {
  upgradeRequest?: IncomingMessage;
  connectionParams?: Record<string, unknown>;
}

/**
 * An expected error as GraphQL sees it: the code and details in `extensions`. A field error keeps where it
 * happened (`path`, `locations`) and no HTTP status: the request executed, so it answers 200 (http-status.ts).
 * An error outside execution (the context: bad credentials, an outage) carries its status for Yoga to answer with.
 */
export function toGraphQLError(error: AppError, located?: GraphQLError): GraphQLError {
  const details = error.details && typeof error.details === "object" ? (error.details as object) : {};
  if (located?.path) {
    return new GraphQLError(error.message, {
      nodes: located.nodes,
      source: located.source,
      positions: located.positions,
      path: located.path,
      extensions: { code: error.code, ...details },
    });
  }
  const retryAfter = (error.details as { retryAfter?: number } | undefined)?.retryAfter;
  return new GraphQLError(error.message, {
    extensions: {
      code: error.code,
      http: { status: error.status, ...(retryAfter ? { headers: { "Retry-After": String(retryAfter) } } : {}) },
      ...details,
    },
  });
}

/** Query limits, checked after parsing and before any resolver (so before any database query). */
export const QUERY_LIMITS = { maxDepth: 12, maxAliases: 15, maxTokens: 2_000, maxDirectives: 20, maxCost: 5_000 } as const;

/** Production hides the schema from introspection; the committed schema.graphql documents it instead. */
function disableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

export type Yoga = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

export function createGraphQL(deps: ServerDeps, hub: ChannelHub): Yoga {
  async function callerOf(initial: { request?: Request; ip?: string | null } & WebSocketInitialContext): Promise<Caller> {
    if (initial.upgradeRequest) {
      const token = initial.connectionParams?.token;
      const headers = initial.upgradeRequest.headers;
      const principal = await authenticateUpgrade(deps.db, deps.env.JWT_SECRET, headers, typeof token === "string" ? token : null, sessionRevocations(deps));
      if (typeof token === "string" && !principal) throw new AppError("UNAUTHENTICATED", "The connection token is invalid, expired or revoked");
      return { principal, ip: initial.upgradeRequest.socket.remoteAddress ?? null };
    }
    return callerFromRequest(deps, initial.request!, initial.ip ?? null);
  }

  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: deps.env.NODE_ENV !== "production" ? { subscriptionsProtocol: "WS" } : false,
    landingPage: false,
    batching: false,
    // /graphql bodies are limited in front of Yoga (server/app.ts: refuseLargeBodies, MAX_JSON_BODY_BYTES, 413);
    // Yoga's own 25 MB limit would wrap every body in a TransformStream and a second Request for nothing.
    maxRequestBodySize: false,
    // Only allowed origins may read answers with credentials (Yoga's default reflects every origin).
    cors: (request) => corsFor(deps.env, request),
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth },
        maxAliases: { n: QUERY_LIMITS.maxAliases },
        maxTokens: { n: QUERY_LIMITS.maxTokens },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives },
        // Armor counts the shape; pricedFieldsCheck adds the price of expensive fields (cost.ts) to that count.
        costLimit: { maxCost: QUERY_LIMITS.maxCost, onAccept: [pricedFieldsCheck(QUERY_LIMITS.maxCost)] },
        blockFieldSuggestion: { enabled: deps.env.NODE_ENV === "production" },
      }),
      perQueryReads(),
      sharedSubscriptionEvents(), // before the telemetry plugin, which wraps it
      graphqlTelemetry(), // a span and the metrics of every operation (docs/observability.md)
      httpStatusPolicy(),
      ...(deps.env.NODE_ENV === "production" ? [disableIntrospection()] : []),
    ],
    logging: false,
    context: async (initial) => {
      try {
        return { deps, hub, caller: await callerOf(initial as never) };
      } catch (error) {
        const expected = expectedError(error);
        if (expected) throw toGraphQLError(expected);
        throw error;
      }
    },
    maskedErrors: {
      maskError(error, message) {
        // A thrown error may arrive wrapped more than once (a subscription's stream error is wrapped by Yoga
        // around our located one): the cause is the innermost, where it happened is the outermost with a path.
        let original: unknown = error;
        let located: GraphQLError | undefined;
        while (original instanceof GraphQLError) {
          if (!located?.path) located = original;
          if (!original.originalError) break;
          original = original.originalError;
        }
        const expected = expectedError(original);
        if (expected) return toGraphQLError(expected, located);
        if (original instanceof GraphQLError) return located?.path ? located : original; // parse/validation errors, GraphQLErrors we throw: the client's own
        deps.logger.error("unexpected GraphQL error", { error: original ?? error });
        return new GraphQLError(message, { nodes: located?.nodes, path: located?.path, extensions: { code: "INTERNAL_SERVER_ERROR" } });
      },
    },
  });
}
