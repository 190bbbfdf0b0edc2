/**
 * A loopback TCP proxy in front of PostgreSQL that counts what a client sends: statements executed
 * (extended-protocol Execute + simple Query messages) and round trips (Sync + Query). Used to measure how
 * many database statements one run, step or request costs — a breakdown, never during timed rounds.
 */
import { connect, createServer, type Server } from "node:net";

export interface PgCounts {
  statements: number;
  roundTrips: number;
}

export async function startPgCounter(target: string): Promise<{ url: string; counts: PgCounts; close(): Promise<void> }> {
  const upstream = new URL(target);
  const counts: PgCounts = { statements: 0, roundTrips: 0 };
  const server: Server = createServer((client) => {
    const db = connect(Number(upstream.port || 5432), upstream.hostname);
    let buffer = Buffer.alloc(0);
    let started = false;
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
