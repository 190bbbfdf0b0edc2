import { ModelPriceTable } from "@algorythmos/domain";
import { z } from "zod";

/**
 * The environment, parsed once per process at boot. Nothing else reads `process.env`.
 * `npm start` fills in embedded defaults (scripts/start.ts); a process started alone needs the required ones.
 */
const csv = z
  .string()
  .default("")
  .transform((value) => value.split(",").map((item) => item.trim().toLowerCase()).filter(Boolean));

export const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  COLLAB_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  DATABASE_URL: z.string().url("DATABASE_URL must be a postgres:// URL"),
  REDIS_URL: z.string().url("REDIS_URL must be a redis:// URL"),
  /** Prefix of every Redis key, queue and channel, so deployments (and test runs) never collide. A hash tag ("{algo}:") for Redis Cluster. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_:.{}-]*$/).default("algo:"),
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
  /** Base64 of 32 random bytes: the AES-256-GCM key of stored credentials. */
  CREDENTIALS_KEY: z
    .string()
    .refine((value) => Buffer.from(value, "base64").length === 32, "CREDENTIALS_KEY must be 32 bytes, base64-encoded"),
  /**
   * Hosts (or IPs) outbound calls (http.request, openai.chat, email.postmark, connection tests) may reach even
   * when they resolve to private addresses. An entry `host:port` (`[v6]:port`) allows that port only.
   */
  HTTP_ALLOW_HOSTS: csv,
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(20),
  /** A run `running` longer than this (time waiting in delay steps not counted) is failed by the reconciler. */
  RUN_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  /** How often the worker's reconciler runs (re-enqueue lost runs, time out stuck ones, sync cron schedules). */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(5_000),
  /**
   * A worker's BullMQ job lock, renewed every half of it: a worker that dies loses its runs' locks after at
   * most this long. With the stalled check below, a SIGKILLed worker's run executes again within ~11 s.
   */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).default(5_000),
  /** How often each worker looks for runs whose worker died (lock expired) and hands them to a live one. */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(3_000),
  /** On SIGTERM a worker starts no new step and waits this long for the steps in flight before interrupting them. */
  WORKER_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * How often each collab process checks every loaded document against the head of its log in PostgreSQL
   * and reads what it missed (relay messages lost to a Redis outage or a crashed publisher).
   */
  COLLAB_ANTI_ENTROPY_MS: z.coerce.number().int().min(100).default(2_000),
  /** Fault injection for the chaos suite only: the fraction (0–1) of collab relay publishes dropped on purpose. */
  COLLAB_RELAY_DROP_RATE: z.coerce.number().min(0).max(1).default(0),
  /** The Postmark API the email.postmark step calls (a stand-in in tests). */
  POSTMARK_API_URL: z.string().url("POSTMARK_API_URL must be a URL").default("https://api.postmarkapp.com"),
  /**
   * LLM prices over the built-in table (R42), JSON: `{ "<model>": { "inputPerMTok": 2.5, "outputPerMTok": 10 } }`
   * (USD per 1M tokens). A workspace's own prices (Workspace.modelPrices) win over these.
   */
  MODEL_PRICES: z
    .string()
    .default("{}")
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: "custom", message: "MODEL_PRICES must be JSON" });
        return z.NEVER;
      }
    })
    .pipe(ModelPriceTable),
  /** The OpenAI-compatible API used by openai.chat when the credential names no baseURL. */
  OPENAI_BASE_URL: z.string().url("OPENAI_BASE_URL must be a URL").default("https://api.openai.com/v1"),
  /** Where the built Remix studio is (remix build output). */
  REMIX_BUILD_PATH: z.string().default("build/index.js"),
  /**
   * Where browsers load the studio's built assets (Remix's publicPath): `/build/` (this server) or the URL of
   * a CDN that serves the same files, ending in `/`. Baked into the build: `npm run build` and the server
   * must see the same value (the server refuses a build made for another).
   */
  ASSET_URL_PREFIX: z
    .string()
    .default("/build/")
    .refine(
      (value) => value.endsWith("/") && (/^\/(?!\/)/.test(value) || (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol))),
      "ASSET_URL_PREFIX must be a path or an http(s) URL ending in /, e.g. https://cdn.example.com/build/",
    ),
  /** The studio's public address, e.g. https://studio.example.com; an https one makes the session cookie Secure. */
  PUBLIC_URL: z
    .string()
    .optional()
    .refine((value) => value === undefined || (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)), "PUBLIC_URL must be an http(s) URL like https://studio.example.com"),
  /**
   * `true` behind a reverse proxy that sets X-Forwarded-Proto and X-Forwarded-For (and strips a client's own): a
   * request it says came over https gets a Secure session cookie, and per-address rate limits count the last
   * X-Forwarded-For entry. Off by default, since any client can send the headers.
   */
  TRUST_PROXY: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
  /** Requests per minute per token (or per IP when anonymous), shared by every server through Redis. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /**
   * Browser origins besides the studio's own (the host a request is sent to) that may call the API with the
   * visitor's cookie and read the answers (CORS), e.g. `https://admin.example.com`. Empty: the studio only.
   */
  ALLOWED_ORIGINS: csv.refine(
    (origins) => origins.every((origin) => URL.canParse(origin) && new URL(origin).origin === origin),
    "ALLOWED_ORIGINS must be a comma-separated list of origins like https://studio.example.com (no path, no trailing slash)",
  ),
  /** Sign-up and log-in attempts per minute per IP (password guessing). */
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /** OTLP/HTTP collector base URL (`/v1/traces` is appended); traces are off without it (docs/observability.md). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url("OTEL_EXPORTER_OTLP_ENDPOINT must be a URL like http://collector:4318").optional(),
  /** When set, every process's /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
  /** The worker's /healthz and /metrics port (0: any free port, logged); the worker listens on none without it. */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
});
export type Env = z.infer<typeof EnvSchema>;

/** `npm start`'s HTTP_ALLOW_HOSTS: the demo workflow calls the studio itself, and only that port of loopback. */
export function localStudioAllowHosts(port: number | string): string {
  return `localhost:${port},127.0.0.1:${port}`;
}

export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid environment:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
