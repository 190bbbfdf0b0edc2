/**
 * GraphQL from the browser: subscriptions over one shared graphql-ws connection (the same-origin upgrade
 * carries the session cookie). Mutations go through Remix actions instead (see runs.ts), which call the
 * API in-process. Call only from effects and event handlers, never during render (SSR has no `location`).
 */
import { createClient, type Client } from "graphql-ws";
import type { Operation } from "./operations";

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
