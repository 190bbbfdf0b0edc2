/**
 * A loopback TCP proxy in front of PostgreSQL that counts what a client sends: statements executed
 * (extended-protocol Execute + simple Query messages) and round trips (Sync + Query). Used to measure how
 * many database statements one run, step or request costs — a breakdown, never during timed rounds.
 */
import { connect, createServer, type Server } from "node:net";

export interface PgCounts {
  statements: number;
  roundTrips: number;
  /** The text of each statement executed, in order (its first 120 characters): what a count is made of. */
  executed: string[];
}

/** A NUL-terminated string at `offset` of a message body, and the offset after it. */
function cString(body: Buffer, offset: number): [string, number] {
  const end = body.indexOf(0, offset);
  return end < 0 ? ["", body.length] : [body.toString("utf8", offset, end), end + 1];
}

export async function startPgCounter(target: string): Promise<{ url: string; counts: PgCounts; close(): Promise<void> }> {
  const upstream = new URL(target);
  const counts: PgCounts = { statements: 0, roundTrips: 0, executed: [] };
  const server: Server = createServer((client) => {
    const db = connect(Number(upstream.port || 5432), upstream.hostname);
    let buffer = Buffer.alloc(0);
    let started = false;
    // Extended protocol: Parse names a statement's text, Bind a portal's statement, Execute runs a portal.
    const statementText = new Map<string, string>();
    const portalText = new Map<string, string>();
    client.on("data", (chunk: Buffer) => {
      db.write(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          // Startup / SSLRequest: int32 length, no type byte.
          if (buffer.length < 4) break;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) break;
          const code = buffer.readInt32BE(4);
          buffer = buffer.subarray(length);
          if (code !== 80877103) started = true; // not an SSLRequest: the startup message
          continue;
        }
        if (buffer.length < 5) break;
        const length = buffer.readInt32BE(1);
        if (buffer.length < length + 1) break;
        const type = String.fromCharCode(buffer[0]!);
        const body = buffer.subarray(5, length + 1);
        if (type === "P") {
          const [name, next] = cString(body, 0);
          statementText.set(name, cString(body, next)[0].replace(/\s+/g, " ").slice(0, 120));
        } else if (type === "B") {
          const [portal, next] = cString(body, 0);
          portalText.set(portal, statementText.get(cString(body, next)[0]) ?? "?");
        }
        if (type === "E") counts.executed.push(portalText.get(cString(body, 0)[0]) ?? "?");
        if (type === "Q") counts.executed.push(cString(body, 0)[0].replace(/\s+/g, " ").slice(0, 120));
        if (type === "E" || type === "Q") counts.statements++;
        if (type === "S" || type === "Q") counts.roundTrips++;
        buffer = buffer.subarray(length + 1);
      }
    });
    db.on("data", (chunk: Buffer) => {
      // An SSLRequest is answered with one byte 'N' (no SSL on loopback); everything else passes through.
      client.write(chunk);
    });
    client.on("error", () => db.destroy());
    db.on("error", () => client.destroy());
    client.on("close", () => db.destroy());
    db.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return { url: url.toString(), counts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface RedisCounts {
  /** Commands the clients sent (each RESP array; a pipeline or MULTI sends several in one write). */
  commands: number;
  /** Writes from clients to Redis that carried at least one command: an upper bound of the round trips. */
  writes: number;
  /** Commands by name (PUBLISH, EVALSHA, …). */
  byName: Record<string, number>;
}

/**
 * The same for Redis: a loopback proxy that parses the RESP commands clients send (arrays of bulk strings)
 * and counts them, by name. Pub/sub and BullMQ's blocking commands pass through like the rest.
 */
export async function startRedisCounter(target: string): Promise<{ url: string; counts: RedisCounts; close(): Promise<void> }> {
  const upstream = new URL(target);
  const counts: RedisCounts = { commands: 0, writes: 0, byName: {} };
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((client) => {
    const redis = connect(Number(upstream.port || 6379), upstream.hostname);
    sockets.add(client).add(redis);
    let buffer = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      redis.write(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      let commandsInWrite = 0;
      for (;;) {
        const parsed = parseCommand(buffer);
        if (!parsed) break;
        buffer = buffer.subarray(parsed.length);
        counts.commands++;
        commandsInWrite++;
        counts.byName[parsed.name] = (counts.byName[parsed.name] ?? 0) + 1;
      }
      if (commandsInWrite) counts.writes++;
    });
    redis.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("error", () => redis.destroy());
    redis.on("error", () => client.destroy());
    client.on("close", () => redis.destroy());
    redis.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    counts,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One RESP command (`*N\r\n` then N `$len\r\n…\r\n`) at the start of `buffer`: its length and name, or null if incomplete. */
function parseCommand(buffer: Buffer): { length: number; name: string } | null {
  const line = (from: number) => {
    const end = buffer.indexOf("\r\n", from);
    return end < 0 ? null : { text: buffer.toString("latin1", from, end), next: end + 2 };
  };
  const header = line(0);
  if (!header) return null;
  if (!header.text.startsWith("*")) {
    // An inline command (redis-cli style): one line.
    return { length: header.next, name: header.text.split(" ")[0]!.toUpperCase() };
  }
  const parts = Number(header.text.slice(1));
  let at = header.next;
  let name = "";
  for (let index = 0; index < parts; index++) {
    const size = line(at);
    if (!size) return null;
    const length = Number(size.text.slice(1));
    if (buffer.length < size.next + length + 2) return null;
    if (index === 0) name = buffer.toString("latin1", size.next, size.next + length).toUpperCase();
    at = size.next + length + 2;
  }
  return { length: at, name };
}
