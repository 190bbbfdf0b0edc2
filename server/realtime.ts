import type { Redis } from "@algorythmos/platform";

/**
 * Redis pub/sub fan-in for this server process: one subscriber connection, any number of local listeners
 * per channel. `listen` resolves only once Redis has confirmed the SUBSCRIBE, so a caller can then read
 * stored history without a gap between history and live messages.
 */
export class ChannelHub {
  private readonly listeners = new Map<string, Set<(message: string) => void>>();

  constructor(private readonly subscriber: Redis) {
    subscriber.on("message", (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message);
    });
  }

  async listen(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(onMessage);
    await this.subscriber.subscribe(channel);
    return async () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(onMessage);
      if (current.size === 0) {
        this.listeners.delete(channel);
        await this.subscriber.unsubscribe(channel).catch(() => {});
      }
    };
  }

  /** An async iterator of a channel's messages, subscribed before it is returned. */
  async iterate(channel: string): Promise<AsyncIterableIterator<string> & { close(): Promise<void> }> {
    const queue: string[] = [];
    let wake: (() => void) | null = null;
    let closed = false;
    const stop = await this.listen(channel, (message) => {
      queue.push(message);
      wake?.();
    });
    const close = async () => {
      if (closed) return;
      closed = true;
      wake?.();
      await stop();
    };
    const iterator: AsyncIterableIterator<string> & { close(): Promise<void> } = {
      close,
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next() {
        while (!queue.length && !closed) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        if (queue.length) return { value: queue.shift()!, done: false };
        return { value: undefined, done: true };
      },
      async return() {
        await close();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }
}
