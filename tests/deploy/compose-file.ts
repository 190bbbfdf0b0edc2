/**
 * docker-compose.yml as Docker Compose reads it: YAML with merge keys, then `${VAR}` interpolation from the
 * `.env` beside it (`${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `$$`). Shared by
 * the compose test and the cluster test (which runs the compose healthchecks against real processes).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
}
export interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const APP_SERVICES = ["server", "collab", "worker"] as const;

/** The file as parsed, before interpolation (what the schema validates). */
export function readCompose(): unknown {
  return parse(readFileSync(path.join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true });
}

/** KEY=VALUE lines of a .env file (comments and blank lines skipped). */
export function readDotEnv(file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path.join(repoRoot, file), "utf8").split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

/** Every variable the file interpolates, with whether it is required (`:?` / `?`). */
export function referencedVariables(): Map<string, { required: boolean }> {
  const text = readFileSync(path.join(repoRoot, "docker-compose.yml"), "utf8");
  const found = new Map<string, { required: boolean }>();
  for (const match of text.matchAll(/\$\{([A-Za-z0-9_]+)(:?[-?])?[^}]*\}/g)) {
    const required = match[2]?.endsWith("?") ?? false;
    found.set(match[1]!, { required: required || (found.get(match[1]!)?.required ?? false) });
  }
  return found;
}

function interpolateString(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z0-9_]+)(?:(:?)([-?])([^}]*))?\}/g, (whole, name?: string, colon?: string, kind?: string, rest?: string) => {
    if (whole === "$$") return "$";
    const given = vars[name!];
    const missing = given === undefined || (colon === ":" && given === "");
    if (!kind) return given ?? "";
    if (!missing) return given!;
    if (kind === "-") return rest ?? "";
    throw new Error(`required variable ${name} is missing a value: ${rest}`);
  });
}

function interpolate<T>(node: T, vars: Record<string, string | undefined>): T {
  if (typeof node === "string") return interpolateString(node, vars) as T;
  if (Array.isArray(node)) return node.map((item) => interpolate(item, vars)) as T;
  if (node && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolate(value, vars)])) as T;
  return node;
}

/** The file as `docker compose up` sees it with this `.env`. */
export function resolvedCompose(vars: Record<string, string | undefined>): Compose {
  return interpolate(readCompose() as Compose, vars);
}

/** The URL a `node -e "fetch('…')…"` healthcheck asks, or null when it is another kind of check. */
export function healthcheckUrl(service: ComposeService): URL | null {
  const script = service.healthcheck?.test.join(" ") ?? "";
  const match = /fetch\('([^']+)'\)/.exec(script);
  return match ? new URL(match[1]!) : null;
}
