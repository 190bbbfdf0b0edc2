/**
 * server/graphql/shared-events.ts: a subscription event is executed once per distinct (document, variables,
 * viewer) and the result handed to every such subscriber; another viewer or other variables get their own
 * execution. A real Yoga envelop (the plugin as the server installs it) over a small schema whose field
 * resolver counts its calls and answers per viewer, so a shared result that crossed viewers would show.
 */
import { GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from "graphql";
import { createYoga } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { sharedSubscriptionEvents } from "../../server/graphql/shared-events.js";

/** Per channel, every subscriber's queue: each gets its own parsed copy of a message, like the Redis hub. */
const channels = new Map<string, Set<(message: string) => void>>();
const publish = (channel: string, event: object) => {
  for (const deliver of channels.get(channel) ?? []) deliver(JSON.stringify(event));
};
async function* listen(channel: string): AsyncGenerator<unknown> {
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  const deliver = (message: string) => {
    queue.push(message);
    wake?.();
  };
  if (!channels.has(channel)) channels.set(channel, new Set());
  channels.get(channel)!.add(deliver);
  try {
    for (;;) {
      while (!queue.length) await new Promise<void>((resolve) => (wake = resolve));
      yield JSON.parse(queue.shift()!);
    }
  } finally {
    channels.get(channel)!.delete(deliver);
  }
}

let executions = 0;
const Event = new GraphQLObjectType({
  name: "Event",
  fields: {
    id: { type: new GraphQLNonNull(GraphQLString) },
    seenBy: {
      type: new GraphQLNonNull(GraphQLString),
      resolve: (event: { id: string }, _args, context: { caller: { principal: { userId: string } | null } }) => {
        executions++;
        return `${event.id} for ${context.caller.principal?.userId ?? "anonymous"}`;
      },
    },
  },
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString, resolve: () => "ok" } } }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      events: {
        type: Event,
        args: { channel: { type: new GraphQLNonNull(GraphQLString) } },
        subscribe: (_root, args: { channel: string }) => listen(args.channel),
        resolve: (event: unknown) => event,
      },
    },
  }),
});
const yoga = createYoga({ schema, plugins: [sharedSubscriptionEvents()], logging: false });
const document = parse(`subscription($channel: String!) { events(channel: $channel) { id seenBy } }`);

async function subscriber(userId: string, channel: string) {
  const { subscribe } = yoga.getEnveloped({});
  const stream = (await subscribe({
    schema,
    document,
    variableValues: { channel },
    contextValue: { caller: { principal: { userId }, ip: null } },
  })) as AsyncIterableIterator<ExecutionResult>;
  return { next: async () => (await stream.next()).value as ExecutionResult, close: () => stream.return?.() };
}

describe("shared subscription execution", () => {
  it("one execution per event for subscribers with the same document, variables and viewer; one more per other viewer or variables", async () => {
    const same = await Promise.all(Array.from({ length: 5 }, () => subscriber("user-a", "run-1")));
    const otherViewer = await subscriber("user-b", "run-1");
    const otherChannel = await subscriber("user-a", "run-2");
    try {
      // Let every stream reach its listen() before publishing.
      const pending = [...same, otherViewer].map((s) => s.next());
      const pendingOther = otherChannel.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      executions = 0;
      publish("run-1", { id: "e1" });
      const results = await Promise.all(pending);
      for (const result of results.slice(0, 5)) expect(result).toEqual({ data: { events: { id: "e1", seenBy: "e1 for user-a" } } });
      expect(results[5]).toEqual({ data: { events: { id: "e1", seenBy: "e1 for user-b" } } });
      expect(executions).toBe(2); // user-a's five subscribers share one

      publish("run-2", { id: "e2" });
      expect(await pendingOther).toEqual({ data: { events: { id: "e2", seenBy: "e2 for user-a" } } });
      expect(executions).toBe(3);

      // A different event on the same channel is executed again (the result is keyed by the event's content).
      const next = same.map((s) => s.next());
      publish("run-1", { id: "e3" });
      for (const result of await Promise.all(next)) expect(result.data).toEqual({ events: { id: "e3", seenBy: "e3 for user-a" } });
      expect(executions).toBe(4);
    } finally {
      for (const s of [...same, otherViewer, otherChannel]) void s.close();
    }
  });
});
