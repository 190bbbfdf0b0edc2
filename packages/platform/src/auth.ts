import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { Db } from "./db.js";
import { subscribeInvalidations } from "./invalidation-channel.js";
import type { Redis } from "./redis.js";

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** Only HS256 is accepted: an `alg: none` or RS/HS confusion token is rejected by jose before any claim is read. */
const ALGORITHMS = ["HS256"];
const ISSUER = "algorythmos";
export const ACCESS_TOKEN_TTL = "12h";
const ACCESS_TOKEN_TTL_SECONDS = 12 * 3600;
/** API tokens start with this, so they are recognisable (and never mistaken for a JWT). */
export const API_TOKEN_PREFIX = "alg_pat_";

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = await scrypt(password, Buffer.from(salt, "base64"), expected.length);
  return timingSafeEqual(actual, expected);
}

const key = (secret: string) => new TextEncoder().encode(secret);

/**
 * An access token names its session (`sid`, the refresh-token family), so ending the session ends the token:
 * see SessionRevocations. Tokens without `sid`, `exp` or `iat` are refused.
 */
export async function signAccessToken(
  secret: string,
  session: { userId: string; sessionId: string },
  ttl: string = ACCESS_TOKEN_TTL,
): Promise<string> {
  return new SignJWT({ sid: session.sessionId })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(session.userId)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(key(secret));
}

/**
 * Which sessions have ended (logged out, or revoked for refresh-token reuse). Asked on every request that
 * carries an access token, so ending a session reaches every process at once, not when its tokens expire.
 */
export interface SessionRevocations {
  isRevoked(sessionId: string): Promise<boolean>;
}

const revokedSessionKey = (redisPrefix: string, sessionId: string) => `${redisPrefix}revoked-session:${sessionId}`;

/**
 * The fast check (one Redis EXISTS, ~0.1 ms on loopback): a key per ended session, kept as long as an access
 * token of it can live. The server uses this one, through the process's revocation cache when one was started
 * for `redis` (startRevocationCache).
 */
export function redisSessionRevocations(redis: Redis, redisPrefix: string): SessionRevocations {
  const ask = async (sessionId: string) => (await redis.exists(revokedSessionKey(redisPrefix, sessionId))) === 1;
  return {
    isRevoked: (sessionId) => {
      const cache = revocationCaches.get(redis);
      return cache && cache.redisPrefix === redisPrefix ? cache.isRevoked(sessionId, ask) : ask(sessionId);
    },
  };
}

/** A session's "not ended" answer is reused for at most this long (see RevocationCache). */
export const REVOCATION_CACHE_TTL_MS = 5_000;
const REVOCATION_CACHE_MAX_ENTRIES = 10_000;

/**
 * Per process: which sessions Redis said are live, so a request does not spend a Redis round trip on it.
 * Ended sessions reach it by pub/sub (`session-ends`, published by revokeSessions after the Redis key is
 * set): an ended session is refused from the moment its message arrives, and in the process that ended it
 * before revokeSessions returns. A "live" answer is kept REVOCATION_CACHE_TTL_MS at most — the bound if a
 * message were lost — and not kept at all while the subscriber connection is down or not yet subscribed
 * (every check then asks Redis), nor when an end arrived while the answer was in flight.
 */
class RevocationCache {
  private readonly live = new Map<string, number>();
  private readonly ended = new Set<string>();
  private generation = 0;
  subscribed = false;
  constructor(readonly redisPrefix: string) {}

  async isRevoked(sessionId: string, ask: (sessionId: string) => Promise<boolean>): Promise<boolean> {
    if (this.ended.has(sessionId)) return true;
    const until = this.live.get(sessionId);
    if (until !== undefined && this.subscribed && until > Date.now()) return false;
    const generation = this.generation;
    const revoked = await ask(sessionId);
    if (revoked) this.end([sessionId]);
    else if (this.subscribed && generation === this.generation && !this.ended.has(sessionId)) {
      this.live.delete(sessionId);
      this.live.set(sessionId, Date.now() + REVOCATION_CACHE_TTL_MS);
      if (this.live.size > REVOCATION_CACHE_MAX_ENTRIES) this.live.delete(this.live.keys().next().value!);
    }
    return revoked;
  }

  end(sessionIds: string[]): void {
    this.generation++;
    for (const id of sessionIds) {
      this.live.delete(id);
      this.ended.add(id);
    }
    // Bounded: an ended session dropped here is still refused by Redis's key on the next check.
    while (this.ended.size > REVOCATION_CACHE_MAX_ENTRIES) this.ended.delete(this.ended.values().next().value!);
  }

  clear(): void {
    this.generation++;
    this.live.clear();
  }
}

const revocationCaches = new WeakMap<Redis, RevocationCache>();
/** Every running cache of this process, so a session ended here is refused here before revokeSessions returns. */
const runningRevocationCaches = new Set<RevocationCache>();

/**
 * Starts caching revocation checks made through `redisSessionRevocations(redis, redisPrefix)` (the server
 * does this once per process). Opens a subscriber connection of its own (a duplicate of `redis`).
 */
export function startRevocationCache(redis: Redis, redisPrefix: string): { close(): Promise<void> } {
  const cache = new RevocationCache(redisPrefix);
  const subscription = subscribeInvalidations(redis, sessionEndsChannel(redisPrefix), "revocation-cache", {
    onLive() {
      cache.clear();
      cache.subscribed = true;
    },
    onLost() {
      cache.subscribed = false; // every check asks Redis until subscribed again
      cache.clear();
    },
    onMessage(message) {
      const ended = parseSessionEnds(message);
      // A message it cannot read may still name ended sessions: forget every live answer rather than guess.
      if (ended.length) cache.end(ended);
      else cache.clear();
    },
  });
  revocationCaches.set(redis, cache);
  runningRevocationCaches.add(cache);
  return {
    async close() {
      runningRevocationCaches.delete(cache);
      if (revocationCaches.get(redis) === cache) revocationCaches.delete(redis);
      await subscription.close();
    },
  };
}

/** The check from PostgreSQL (the refresh-token family is revoked there too): for processes without Redis at hand. */
export function dbSessionRevocations(db: Db): SessionRevocations {
  return { isRevoked: async (sessionId) => (await db.refreshToken.count({ where: { familyId: sessionId, revokedAt: { not: null } } })) > 0 };
}

/**
 * Sessions that just ended are announced here as `{ "sessionIds": [...] }`, so connections opened with one of
 * their tokens (GraphQL subscriptions, collab sockets) close instead of living on.
 */
export const sessionEndsChannel = (redisPrefix: string) => `${redisPrefix}session-ends`;

export function parseSessionEnds(message: string | Buffer): string[] {
  try {
    const value = JSON.parse(message.toString()) as { sessionIds?: unknown };
    return Array.isArray(value.sessionIds) ? value.sessionIds.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}

/**
 * Marks sessions ended for every process (new requests are refused), then announces it (open connections
 * close). Call before revoking their refresh tokens in the database.
 */
export async function revokeSessions(redis: Redis, redisPrefix: string, sessionIds: string[]): Promise<void> {
  if (!sessionIds.length) return;
  const pipeline = redis.multi();
  // A little longer than a token lives, so clock skew between processes cannot revive one.
  for (const id of sessionIds) pipeline.set(revokedSessionKey(redisPrefix, id), "1", "EX", ACCESS_TOKEN_TTL_SECONDS + 300);
  await pipeline.exec();
  for (const cache of runningRevocationCaches) if (cache.redisPrefix === redisPrefix) cache.end(sessionIds);
  await redis.publish(sessionEndsChannel(redisPrefix), JSON.stringify({ sessionIds }));
}

/**
 * Calls `handler` with the ids of every session that ends (logOut, refresh-token reuse), on a connection in
 * subscriber mode; resolves once Redis confirmed the subscription. Returns the unsubscribe.
 */
export async function subscribeSessionEnds(subscriber: Redis, redisPrefix: string, handler: (sessionIds: string[]) => void): Promise<() => Promise<void>> {
  const channel = sessionEndsChannel(redisPrefix);
  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    const ended = parseSessionEnds(message);
    if (ended.length) handler(ended);
  };
  subscriber.on("message", onMessage);
  await subscriber.subscribe(channel);
  return async () => {
    subscriber.off("message", onMessage);
    await subscriber.unsubscribe(channel).catch(() => {});
  };
}

export function hashApiToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function newApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(24).toString("base64url");
}

export interface Principal {
  userId: string;
  via: "jwt" | "api-token";
  /** For a JWT: the session it belongs to (the refresh-token family). */
  sessionId?: string;
}

/**
 * Resolves a bearer token (JWT or personal API token) to a user, or null when it is not valid. A JWT must carry
 * `exp`, `iat` (no older than the access-token lifetime, whatever its `exp` says) and a session that has not ended.
 */
export async function authenticate(
  db: Db,
  secret: string,
  token: string | null | undefined,
  revocations: SessionRevocations = dbSessionRevocations(db),
): Promise<Principal | null> {
  if (!token) return null;
  if (token.startsWith(API_TOKEN_PREFIX)) {
    const row = await db.apiToken.findUnique({ where: { tokenHash: hashApiToken(token) }, select: { id: true, userId: true, revokedAt: true, lastUsedAt: true } });
    if (!row || row.revokedAt) return null;
    // "Last used" to the minute is enough to spot unused tokens, and spares a write per request.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      void db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
    }
    return { userId: row.userId, via: "api-token" };
  }
  const claims = await verifiedClaims(secret, token);
  if (!claims) return null;
  // Ending a session ends its tokens on every process: in Redis at once, in a process's revocation cache
  // when its session-ends message arrives (REVOCATION_CACHE_TTL_MS at most).
  if (await revocations.isRevoked(claims.sessionId)) return null;
  return { userId: claims.userId, via: "jwt", sessionId: claims.sessionId };
}

interface VerifiedClaims {
  userId: string;
  sessionId: string;
  /** The token is refused from this time on (ms): the earlier of `exp` and `iat` + the access-token lifetime. */
  validUntil: number;
}

/**
 * JWTs whose signature and claims this process verified, by token, for as long as they are valid: a token
 * is the same bytes on every request of a client, and its signature check (HMAC + JSON) is the larger part of
 * authenticating it. Only the stateless part is kept — revocation is asked every time. Bounded, oldest out;
 * a hit counts only for the secret it was verified with.
 */
const VERIFIED_MAX_ENTRIES = 10_000;
const verified = new Map<string, VerifiedClaims & { secret: string }>();

async function verifiedClaims(secret: string, token: string): Promise<VerifiedClaims | null> {
  const known = verified.get(token);
  if (known && known.secret === secret) {
    if (Date.now() < known.validUntil) return known;
    verified.delete(token);
    return null;
  }
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      algorithms: ALGORITHMS,
      issuer: ISSUER,
      requiredClaims: ["exp", "iat", "sub", "sid"],
      maxTokenAge: ACCESS_TOKEN_TTL,
    });
    if (typeof payload.sub !== "string" || !payload.sub || typeof payload.sid !== "string" || !payload.sid) return null;
    if (typeof payload.exp !== "number" || typeof payload.iat !== "number") return null;
    const claims = { userId: payload.sub, sessionId: payload.sid, validUntil: Math.min(payload.exp, payload.iat + ACCESS_TOKEN_TTL_SECONDS) * 1000 };
    verified.set(token, { ...claims, secret });
    if (verified.size > VERIFIED_MAX_ENTRIES) verified.delete(verified.keys().next().value!);
    return claims;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return null;
    throw error;
  }
}

/** The studio's httpOnly session cookie (holds an access token). */
export const SESSION_COOKIE = "algo_session";

export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return decodeURIComponent(part.slice(index + 1).trim());
  }
  return null;
}

export function isSameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * Authenticates a WebSocket upgrade: an explicit token (query or connection params) or, only when the
 * page comes from our own origin (no cross-site WebSocket hijacking), the session cookie.
 */
export async function authenticateUpgrade(
  db: Db,
  secret: string,
  headers: { cookie?: string; origin?: string; host?: string },
  token: string | null,
  revocations: SessionRevocations = dbSessionRevocations(db),
): Promise<Principal | null> {
  if (token) return authenticate(db, secret, token, revocations);
  const cookie = readCookie(headers.cookie, SESSION_COOKIE);
  if (!cookie || !isSameOrigin(headers.origin, headers.host)) return null;
  return authenticate(db, secret, cookie, revocations);
}
