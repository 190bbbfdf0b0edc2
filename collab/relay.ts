import { collabRelayLag, decodeRelayMessage, encodeRelayMessage, workflowDocChannel, type Logger, type Redis, type SeqRange } from "@algorythmos/platform";
import { randomUUID } from "node:crypto";

export type RelayHandler = (update: Uint8Array, seqs: SeqRange | undefined) => void;

export interface RelayOptions {
  /** Publishing retries this often (with backoff) before leaving the update to the rooms' anti-entropy. */
  publishAttempts?: number;
  /** Fault injection for the chaos suite only: this fraction of publishes is dropped silently. */
  dropRate?: number;
}

/**
 * Relays durable document updates between collab processes (and from API edits) through Redis pub/sub, so
 * two processes serving one workflow converge within milliseconds. It is a fast path, not the truth: every
 * message carries the log seqs of its update, and a room that sees a gap — or hears nothing while the log
 * moves on — reads what it missed from PostgreSQL (collab/room.ts, docs/collab.md). Subscribe before
 * loading a room: anything appended after the load read arrives here, anything before is in the load.
 */
export class DocRelay {
  readonly instanceId = randomUUID();
  private readonly handlers = new Map<string, RelayHandler>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly publishAttempts: number;
  private readonly dropRate: number;

  constructor(
    /** Also announces new notifications (collab/mentions.ts). */
    readonly publisher: Redis,
    private readonly subscriber: Redis,
    readonly redisPrefix: string,
    private readonly logger: Logger,
    options: RelayOptions = {},
  ) {
    this.publishAttempts = options.publishAttempts ?? 6;
    this.dropRate = options.dropRate ?? 0;
    subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      const handler = this.handlers.get(channel.toString());
      const decoded = decodeRelayMessage(message);
      if (!handler || !decoded || decoded.origin === this.instanceId) return;
      handler(decoded.update, decoded.seqs);
    });
  }

  async join(workflowId: string, handler: RelayHandler): Promise<void> {
    const channel = workflowDocChannel(this.redisPrefix, workflowId);
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
  }

  /** Stops relaying to `handler`; a room loaded again meanwhile has its own handler and keeps it. */
  async leave(workflowId: string, handler: RelayHandler): Promise<void> {
    const channel = workflowDocChannel(this.redisPrefix, workflowId);
    if (this.handlers.get(channel) !== handler) return;
    this.handlers.delete(channel);
    await this.subscriber.unsubscribe(channel);
  }

  /** Publishes in the background, retrying with backoff; `drain` waits for every publish still trying. */
  publish(workflowId: string, update: Uint8Array, seqs: SeqRange): void {
    if (this.dropRate > 0 && Math.random() < this.dropRate) return;
    const message = encodeRelayMessage(this.instanceId, update, seqs);
    const channel = workflowDocChannel(this.redisPrefix, workflowId);
    const durableAt = performance.now(); // publish is called once the update is durable
    const attempt = async () => {
      for (let tries = 1; ; tries++) {
        try {
          await this.publisher.publish(channel, message);
          collabRelayLag.observe((performance.now() - durableAt) / 1000);
          return;
        } catch (error) {
          if (tries >= this.publishAttempts) {
            // Already durable: the other processes' anti-entropy pass reads it from the log.
            this.logger.warn("collab relay publish gave up; anti-entropy will deliver it", { workflowId, seqs, error });
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** tries)));
        }
      }
    };
    const publishing = attempt();
    this.inFlight.add(publishing);
    void publishing.finally(() => this.inFlight.delete(publishing));
  }

  /** Resolves once every publish started so far has gone out or given up (shutdown waits for this). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }
}
