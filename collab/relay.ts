import { decodeRelayMessage, encodeRelayMessage, workflowDocChannel, type Logger, type Redis } from "@algorythmos/platform";
import { randomUUID } from "node:crypto";

/**
 * Relays durable document updates between collab processes (and from API edits) through Redis pub/sub, so
 * two processes serving one workflow converge. Subscribe before loading a room: anything appended after the
 * load read arrives here, anything before is in the load.
 */
export class DocRelay {
  readonly instanceId = randomUUID();
  private readonly handlers = new Map<string, (update: Uint8Array) => void>();

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly redisPrefix: string,
    private readonly logger: Logger,
  ) {
    subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      const handler = this.handlers.get(channel.toString());
      const decoded = decodeRelayMessage(message);
      if (!handler || !decoded || decoded.origin === this.instanceId) return;
      handler(decoded.update);
    });
  }

  async join(workflowId: string, handler: (update: Uint8Array) => void): Promise<void> {
    const channel = workflowDocChannel(this.redisPrefix, workflowId);
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
  }

  /** Stops relaying to `handler`; a room loaded again meanwhile has its own handler and keeps it. */
  async leave(workflowId: string, handler: (update: Uint8Array) => void): Promise<void> {
    const channel = workflowDocChannel(this.redisPrefix, workflowId);
    if (this.handlers.get(channel) !== handler) return;
    this.handlers.delete(channel);
    await this.subscriber.unsubscribe(channel);
  }

  publish(workflowId: string, update: Uint8Array): void {
    // Already durable: a lost publish only delays other processes until their clients resync.
    this.publisher
      .publish(workflowDocChannel(this.redisPrefix, workflowId), encodeRelayMessage(this.instanceId, update))
      .catch((error: Error) => this.logger.warn("collab relay publish failed", { workflowId, error }));
  }
}
