/**
 * How the engine stores a delivery's ledger writes and their events (R5): every durable write is one statement
 * with its event, and carries the writes of in-process steps recorded since the last one — so a chain of
 * transforms and conditions costs no round trip of its own, while its rows and events still commit atomically,
 * in order, before anything that depends on them is durable (a crash before that re-evaluates those steps,
 * which have no side effects). Carried writes wait at most CARRY_MAX_MS (live subscribers still see each step
 * soon) and CARRY_MAX_STEPS rows; events are announced on Redis after their commit, one message per channel
 * and one Redis command per statement (R60).
 */
import type { RunEvent } from "@algorythmos/domain";
import {
  announceRunEvents,
  isClosedCarry,
  isDuplicateKey,
  publishRunEvent,
  storeRunEventWith,
  type CarriedWrites,
  type EventWrite,
  type Prisma,
} from "@algorythmos/platform";
import { DuplicateDelivery, errorMessage } from "../errors.js";
import { CARRY_MAX_MS, CARRY_MAX_STEPS } from "./policy.js";
import type { CarryEvent, EngineDeps, EventInput, Publish } from "./types.js";

type FullEvent = Omit<RunEvent, "seq">;

export function createPublish(deps: EngineDeps, run: { runId: string; workflowId: string }): Publish & { close(): Promise<void> } {
  const { logger } = deps;
  const { runId } = run;
  const full = (event: EventInput, at = new Date()): FullEvent => ({ ...event, runId, workflowId: run.workflowId, at: at.toISOString() });
  const notAnnounced = (events: FullEvent[]) => (error: unknown) =>
    logger.warn("run events not published", { runId, types: events.map((e) => e.type), error: errorMessage(error) });

  let carried: CarriedWrites = { writes: [], events: [] };
  let steps = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** A deferred step result is carried: it is stored before the event loop turns, if no write takes it first. */
  let urgent = false;
  /** Announces in flight: not waited for by each write (ioredis keeps their order), but by close(). */
  const announcing = new Set<Promise<void>>();
  /** A flush started by the timer: later writes wait for it, so a step's rows never commit after its successor's. */
  let background: Promise<void> | null = null;

  const take = (): CarriedWrites | undefined => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!carried.writes.length && !carried.events.length) return undefined;
    const taken = carried;
    carried = { writes: [], events: [] };
    steps = 0;
    urgent = false;
    return taken;
  };
  /** A write that carried them failed (not a duplicate): they go out with the next one (not on a timer: no retry loop in an outage). */
  const restore = (taken: CarriedWrites | undefined) => {
    if (!taken) return;
    carried = { writes: [...taken.writes, ...carried.writes], events: [...taken.events, ...carried.events] };
  };
  const announce = (stored: RunEvent[]) => {
    const sent = announceRunEvents(deps.redis, deps.env.REDIS_PREFIX, stored).catch(notAnnounced(stored));
    announcing.add(sent);
    void sent.finally(() => announcing.delete(sent));
  };

  /** A background flush found the run taken (DuplicateDelivery): every later write of this delivery stops too. */
  let stopped: DuplicateDelivery | null = null;

  /** One statement: the carried writes, then `statement` with `event` (either may be absent). */
  const store = async (event: FullEvent | null, statement: EventWrite | null): Promise<boolean> => {
    if (background) await background;
    if (stopped) throw stopped;
    const taken = take();
    if (!taken && !statement) return false;
    try {
      const result = await storeRunEventWith(deps.db, event, statement, taken);
      announce([...result.carried, ...(result.stored ? [result.stored] : [])]);
      return result.stored !== null;
    } catch (error) {
      // Another delivery holds the run (a duplicate row), or a carried step result's attempt was closed
      // meanwhile (a cancel, or a delivery that took the run over): this delivery stops, writing nothing.
      if (isDuplicateKey(error) || isClosedCarry(error)) throw new DuplicateDelivery(runId, event?.stepId ?? "(carried)");
      restore(taken);
      throw error;
    }
  };
  const flush = async () => {
    await store(null, null);
  };
  function arm() {
    if (timer || (!carried.writes.length && !carried.events.length)) return;
    timer = setTimeout(flushSoon, CARRY_MAX_MS);
    timer.unref?.();
  }
  /** Stores what is carried in the background (the carry limit or CARRY_MAX_MS was reached). */
  function flushSoon() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const running = flush().catch((error: unknown) => {
      if (error instanceof DuplicateDelivery) stopped = error;
      else logger.warn("carried ledger writes not stored yet; the next write carries them", { runId, error: errorMessage(error) });
    });
    background = running.finally(() => {
      if (background === running) background = null;
    });
  }

  return Object.assign(
    (event: EventInput) =>
      publishRunEvent(deps.db, deps.redis, deps.env.REDIS_PREFIX, full(event)).catch((error: unknown) =>
        logger.warn("run event not published", { runId, type: event.type, stepId: event.stepId, error: errorMessage(error) }),
      ),
    {
      withLedger: (event: EventInput, statement: EventWrite) => store(full(event), statement),
      carry(writes: Prisma.Sql[], events: CarryEvent[], options: { urgent?: boolean } = {}) {
        const offset = carried.writes.length;
        carried.writes.push(...writes);
        carried.events.push(...events.map(({ at, onlyIf, ...event }) => ({ ...full(event, at), ...(onlyIf === undefined ? {} : { onlyIf: offset + onlyIf }) })));
        steps++;
        if (options.urgent && !urgent) {
          urgent = true;
          setImmediate(() => {
            if (urgent) flushSoon();
          });
        }
        if (steps >= CARRY_MAX_STEPS) flushSoon();
        else arm();
      },
      flush,
      async take() {
        if (background) await background;
        return take();
      },
      restore,
      announce: async (stored: RunEvent[]) => announce(stored),
      async close() {
        if (timer) clearTimeout(timer);
        timer = undefined;
        if (background) await background;
        // Whatever is still carried (a suspend, a hand-back, a stop) is stored now, best effort.
        await flush().catch((error: unknown) => {
          if (!(error instanceof DuplicateDelivery)) logger.warn("carried ledger writes lost; the next delivery evaluates those steps again", { runId, error: errorMessage(error) });
        });
        await Promise.all(announcing);
      },
    },
  );

}
