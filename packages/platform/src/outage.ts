/**
 * Is this error PostgreSQL or Redis being unreachable (down, restarting, a cut connection, a pool that
 * cannot get a connection) rather than a bug? Those are answered as SERVICE_UNAVAILABLE (503 + Retry-After)
 * — a retry will work once the service is back — instead of a masked "unexpected error". One place knows the
 * shapes: Prisma's connection codes and driver-adapter kinds, pg's and ioredis's own errors, socket errnos.
 */
// P2028: an interactive transaction whose connection died under it ("Transaction already closed").
const PRISMA_CONNECTION_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);
const ADAPTER_CONNECTION_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections", "TransactionStartTimeout"]);
const SOCKET_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTCONN", "57P01", "57P02", "57P03", "53300"]);
const MESSAGES = [
  /Connection terminated/i, // pg: the server went away mid-connection
  /Connection is closed/i, // ioredis
  /max retries per request/i, // ioredis: gave up while disconnected
  /Stream isn't writeable/i, // ioredis offline
  /Can't reach database server/i, // Prisma
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /terminating connection due to administrator command/i,
  /timeout exceeded when trying to connect/i, // pg pool
  /not queryable/i, // pg: "Client has encountered a connection error and is not queryable"
  /Transaction already closed|Transaction not found/i, // Prisma: the transaction's connection is gone
  /Server has closed the connection/i,
];

/** SQLSTATE classes of a server going away: 08 connection exception, 57P operator intervention (restart). */
const isConnectionSqlState = (code: unknown) => typeof code === "string" && (/^08/.test(code) || /^57P0[1-3]$/.test(code));

export function isOutage(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 6; depth++) {
    if (typeof current !== "object") return false;
    const candidate = current as { name?: unknown; code?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } }; cause?: unknown };
    if (candidate.name === "MaxRetriesPerRequestError" || candidate.name === "PrismaClientInitializationError") return true;
    if (typeof candidate.code === "string" && (PRISMA_CONNECTION_CODES.has(candidate.code) || SOCKET_ERRNOS.has(candidate.code))) return true;
    const cause = candidate.meta?.driverAdapterError?.cause as { kind?: unknown; originalCode?: unknown } | undefined;
    if (typeof cause?.kind === "string" && ADAPTER_CONNECTION_KINDS.has(cause.kind)) return true;
    if (isConnectionSqlState(cause?.originalCode) || isConnectionSqlState(candidate.code)) return true;
    if (typeof candidate.message === "string" && MESSAGES.some((pattern) => pattern.test(candidate.message as string))) return true;
    current = candidate.cause ?? (candidate as { originalError?: unknown }).originalError;
  }
  return false;
}

/** Seconds a client should wait before retrying during an outage (what Retry-After says). */
export const OUTAGE_RETRY_AFTER_SECONDS = 2;
