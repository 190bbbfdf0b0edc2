import { createSourceEventStream, execute, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { GraphQLContext } from "./builder.js";

/** How long an event's executed result is kept for the other subscribers it fans out to. */
const SHARED_RESULT_MS = 1_000;
const SHARED_RESULTS_MAX = 5_000;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;
/** Yoga's parser cache hands every subscriber of the same query text the same document object. */
const documentId = (document: DocumentNode) => {
  let id = documentIds.get(document);
  if (id === undefined) documentIds.set(document, (id = ++nextDocumentId));
  return id;
};

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> => typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/**
 * Executes a subscription's selection once per event for every subscriber that would get the same answer —
 * the same document, operation, variables and viewer (the user, so the same access) — and hands each the
 * same result, instead of executing it once per subscriber. Each subscriber keeps its own source stream (its
 * subscribe resolver authorises it and watches its access), so only the per-event execution is shared. The
 * event is identified by its content: every subscriber's stream parses its own copy of the Redis message.
 * Results are kept SHARED_RESULT_MS (bounded), long enough for one event's fan-out.
 */
export function sharedSubscriptionEvents(): Plugin<GraphQLContext> {
  const shared = new Map<string, { at: number; result: Promise<ExecutionResult> }>();
  const remember = (key: string, result: Promise<ExecutionResult>) => {
    const now = Date.now();
    shared.set(key, { at: now, result });
    if (shared.size > SHARED_RESULTS_MAX) shared.delete(shared.keys().next().value!);
    for (const [old, entry] of shared) {
      if (now - entry.at <= SHARED_RESULT_MS) break; // insertion order: the rest are younger
      shared.delete(old);
    }
  };

  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const stream = await createSourceEventStream(args);
        // Anything but a stream (variables that do not coerce, a subscribe resolver that threw): the
        // executor's own answer, with its error codes.
        if (!isAsyncIterable(stream)) return subscribeFn(args as never);
        const viewer = (args.contextValue as GraphQLContext | undefined)?.caller?.principal?.userId ?? "";
        const shape = `${documentId(args.document)}\u0000${args.operationName ?? ""}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${viewer}`;
        const source = stream[Symbol.asyncIterator]();
        const operation = args.document.definitions.find((definition) => definition.kind === "OperationDefinition");
        const mapped: AsyncIterableIterator<ExecutionResult> = {
          [Symbol.asyncIterator]() {
            return mapped;
          },
          async next() {
            let step: IteratorResult<unknown>;
            try {
              step = await source.next();
            } catch (error) {
              // As the executor does: the stream's error, wrapped once at the operation (see yoga.ts maskError).
              throw new GraphQLError((error as Error).message, { originalError: error as Error, nodes: operation ? [operation] : undefined });
            }
            if (step.done) return { value: undefined, done: true };
            const key = `${shape}\u0000${JSON.stringify(step.value)}`;
            let result = shared.get(key)?.result;
            if (!result) {
              result = Promise.resolve(execute({ ...args, rootValue: step.value }) as ExecutionResult | Promise<ExecutionResult>);
              remember(key, result);
            }
            return { value: await result, done: false };
          },
          async return() {
            await source.return?.();
            return { value: undefined, done: true };
          },
          async throw(error: unknown) {
            if (source.throw) await source.throw(error);
            throw error;
          },
        };
        return mapped;
      }) as never);
    },
  };
}
