/**
 * GraphQL from the browser: mutations over fetch (cookie + CSRF header), subscriptions over one shared
 * graphql-ws connection (the same-origin upgrade carries the session cookie). Call only from effects and
 * event handlers, never during render (SSR has no `location`).
 */
import { CSRF_HEADER, type GraphQLResponse } from "@algorythmos/domain";
import { createClient, type Client } from "graphql-ws";
import { toApiError, type Result } from "./errors";
import type { Operation } from "./operations";

export async function browserExecute<Data, Variables extends Record<string, unknown>>(
  operation: Operation<Data, Variables>,
  variables: Variables,
): Promise<Result<Data>> {
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json", [CSRF_HEADER]: "1" },
      body: JSON.stringify({ query: operation.query, variables }),
    });
    const body = (await response.json()) as GraphQLResponse<Data>;
    if (body.errors?.length || !body.data) return { ok: false, error: toApiError(body.errors, `Request failed (${response.status})`) };
    return { ok: true, data: body.data };
  } catch (error) {
    return { ok: false, error: toApiError(null, `Could not reach the server: ${(error as Error).message}`) };
  }
}

let client: Client | null = null;

export function wsOrigin(): string {
  return (location.protocol === "https:" ? "wss" : "ws") + "://" + location.host;
}

function subscriptionClient(): Client {
  client ??= createClient({ url: wsOrigin() + "/graphql", lazy: true, retryAttempts: 5 });
  return client;
}

export interface SubscriptionHandlers<Data> {
  next(data: Data): void;
  error?(message: string): void;
  complete?(): void;
}

/** Subscribes and returns the unsubscribe function. */
export function subscribe<Data, Variables extends Record<string, unknown>>(
  operation: Operation<Data, Variables>,
  variables: Variables,
  handlers: SubscriptionHandlers<Data>,
): () => void {
  return subscriptionClient().subscribe<Data>(
    { query: operation.query, variables },
    {
      next: (result) => {
        if (result.errors?.length) handlers.error?.(result.errors.map((e) => e.message).join("; "));
        else if (result.data) handlers.next(result.data);
      },
      error: (error) => {
        const message =
          error instanceof Error
            ? error.message
            : Array.isArray(error)
              ? error.map((e: { message?: string }) => e.message).join("; ")
              : error && typeof error === "object" && "code" in error
                ? `Live updates closed (${(error as CloseEvent).code})`
                : "Live updates failed";
        handlers.error?.(message);
      },
      complete: () => handlers.complete?.(),
    },
  );
}
