/**
 * deploy/kubernetes: every manifest validates against the Kubernetes (and KEDA) OpenAPI schemas
 * (kubernetes-models), and the wiring holds — one Secret and one ConfigMap in every pod, settings the processes
 * know, probes on each process's real port and /healthz, Services and selectors that reach the pods, the
 * Ingress's /collab/ split, autoscalers on the right Deployments, and the KEDA trigger on the lists BullMQ
 * really uses (checked against real BullMQ and Redis).
 */
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { COLLAB_PATH_PREFIX } from "@algorythmos/domain";
import { bullPrefix, createRedis, createRunQueue, closeRedis, enqueueRun, EnvSchema, loadEnv } from "@algorythmos/platform";
import { Worker } from "bullmq";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { testEnv } from "../support/env.js";
import { repoRoot } from "./compose-file.js";

const dir = path.join(repoRoot, "deploy/kubernetes");

/** Each kind we ship, with the model that validates it. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "batch/v1/Job": Job,
  "networking.k8s.io/v1/Ingress": Ingress,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
};

const manifestFiles = readdirSync(dir).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml");
const manifests: any[] = manifestFiles.flatMap((file) => parseAllDocuments(readFileSync(path.join(dir, file), "utf8")).map((doc) => ({ ...doc.toJS(), file })));
const ofKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const named = (kind: string, name: string) => {
  const found = ofKind(kind).find((manifest) => manifest.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name}`);
  return found;
};
const deployments = ofKind("Deployment");
const deploymentOf = (role: string) => deployments.find((deployment) => deployment.metadata.labels["app.kubernetes.io/component"] === role)!;
const config = ofKind("ConfigMap")[0]!;
const secret = ofKind("Secret")[0]!;
const podSpecs = () => [...deployments, ...ofKind("Job")].map((workload) => ({ name: workload.metadata.name, spec: workload.spec.template.spec }));

/** A container port by name or number → its number. */
function containerPort(container: any, port: string | number): number | undefined {
  return typeof port === "number" ? container.ports?.find((each: any) => each.containerPort === port)?.containerPort : container.ports?.find((each: any) => each.name === port)?.containerPort;
}

describe("deploy/kubernetes", () => {
  it("every manifest is valid against the Kubernetes and KEDA schemas, and kustomization.yaml lists every file", () => {
    expect(manifests.length).toBeGreaterThan(10);
    for (const manifest of manifests) {
      const { file, ...object } = manifest;
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${file}: ${object.apiVersion} ${object.kind} is a kind this test knows`).toBeDefined();
      expect(() => new Model!(object).validate(), `${file}: ${object.kind} ${object.metadata?.name}`).not.toThrow();
    }
    const kustomization = parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
    expect([...kustomization.resources].sort()).toEqual([...manifestFiles].sort());
    expect(kustomization.images.map((image: any) => image.name)).toEqual(["algorythmos-studio"]);
    for (const { spec } of podSpecs()) for (const container of spec.containers) expect(container.image).toBe("algorythmos-studio");
  });

  it("one Secret and one ConfigMap reach every pod, and together they are an environment the processes accept", () => {
    expect(ofKind("Secret")).toHaveLength(1);
    expect(ofKind("ConfigMap")).toHaveLength(1);
    for (const { name, spec } of podSpecs()) {
      for (const container of spec.containers) {
        expect(container.envFrom, `${name}/${container.name}`).toEqual([{ configMapRef: { name: config.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
        expect(container.env, `${name}: settings come from the ConfigMap and the Secret only`).toBeUndefined();
      }
    }
    // A typo'd setting would be ignored silently by the processes: every key must be one they read.
    const known = new Set(Object.keys(EnvSchema.shape));
    expect(Object.keys(config.data).filter((key) => !known.has(key))).toEqual([]);
    expect(Object.keys(secret.stringData).filter((key) => !known.has(key) && !["REDIS_ADDRESS", "REDIS_PASSWORD"].includes(key))).toEqual([]);
    // The placeholders are refused at boot (no deployment runs with a made-up key)...
    expect(() => loadEnv({ ...config.data, ...secret.stringData })).toThrow(/JWT_SECRET[\s\S]*CREDENTIALS_KEY/);
    // ...and real values in their place make a valid environment.
    const env = loadEnv({ ...config.data, ...secret.stringData, JWT_SECRET: randomBytes(36).toString("base64"), CREDENTIALS_KEY: randomBytes(32).toString("base64") });
    // KEDA's address and password are the same Redis as REDIS_URL.
    const redisUrl = new URL(env.REDIS_URL);
    expect(secret.stringData.REDIS_ADDRESS).toBe(`${redisUrl.hostname}:${redisUrl.port}`);
    expect(decodeURIComponent(redisUrl.password)).toBe(secret.stringData.REDIS_PASSWORD);
  });

  it("each Deployment runs its process, and its probes ask that process's /healthz on the port its settings give it", () => {
    const portSetting = { server: "PORT", collab: "COLLAB_PORT", worker: "WORKER_HEALTH_PORT" } as const;
    for (const role of ["server", "collab", "worker"] as const) {
      const deployment = deploymentOf(role);
      expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
      const [container] = deployment.spec.template.spec.containers;
      const entry = container.command.at(-1);
      expect(entry).toBe(`${role}/main.ts`);
      expect(existsSync(path.join(repoRoot, entry)), entry).toBe(true);
      const wantedPort = Number(config.data[portSetting[role]]);
      for (const probe of ["startupProbe", "readinessProbe"]) {
        const check = container[probe];
        expect(check?.httpGet?.path, `${role} ${probe}`).toBe("/healthz");
        expect(containerPort(container, check.httpGet.port), `${role} ${probe}`).toBe(wantedPort);
      }
      // Liveness is the port only: a PostgreSQL outage must not restart every pod.
      expect(containerPort(container, container.livenessProbe.tcpSocket.port), `${role} liveness`).toBe(wantedPort);
      // The grace period covers the process's own drain.
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds, role).toBeGreaterThanOrEqual(role === "worker" ? 15 : 15);
    }
    const job = ofKind("Job")[0]!;
    const migrate = job.spec.template.spec.containers[0];
    expect(migrate.command.at(-1)).toBe("scripts/migrate.ts");
    expect(readFileSync(path.join(repoRoot, "scripts/migrate.ts"), "utf8")).toContain("applyMigrations");
    expect(["OnFailure", "Never"]).toContain(job.spec.template.spec.restartPolicy);
  });

  it("Services select the pods and reach their ports; the Ingress sends /collab/ to collab and the rest to the server", () => {
    const resolve = (serviceName: string, port: { name?: string; number?: number }) => {
      const service = named("Service", serviceName);
      const servicePort = service.spec.ports.find((each: any) => (port.name ? each.name === port.name : each.port === port.number));
      expect(servicePort, `${serviceName} port ${JSON.stringify(port)}`).toBeDefined();
      const targets = deployments.filter((deployment) => Object.entries(service.spec.selector).every(([key, value]) => deployment.spec.template.metadata.labels[key] === value));
      expect(targets, `${serviceName} selects exactly one Deployment`).toHaveLength(1);
      const container = targets[0].spec.template.spec.containers[0];
      return { role: targets[0].metadata.labels["app.kubernetes.io/component"], port: containerPort(container, servicePort.targetPort) };
    };
    const ingress = ofKind("Ingress")[0]!;
    const paths = ingress.spec.rules.flatMap((rule: any) => rule.http.paths);
    const collabPath = paths.find((each: any) => each.path === COLLAB_PATH_PREFIX);
    const rest = paths.find((each: any) => each.path === "/");
    expect(collabPath.pathType).toBe("Prefix");
    expect(rest.pathType).toBe("Prefix");
    expect(resolve(collabPath.backend.service.name, collabPath.backend.service.port)).toEqual({ role: "collab", port: Number(config.data.COLLAB_PORT) });
    expect(resolve(rest.backend.service.name, rest.backend.service.port)).toEqual({ role: "server", port: Number(config.data.PORT) });
    expect(ingress.spec.tls[0].hosts).toEqual(ingress.spec.rules.map((rule: any) => rule.host));
    // Idle WebSockets (an editor with nothing to say, a quiet subscription) outlive the proxy's default 60 s.
    expect(Number(ingress.metadata.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"])).toBeGreaterThanOrEqual(600);
    for (const budget of ofKind("PodDisruptionBudget")) {
      expect(deployments.filter((deployment) => isDeepMatch(budget.spec.selector.matchLabels, deployment.spec.template.metadata.labels))).toHaveLength(1);
    }
  });

  it("server and collab scale on CPU; workers scale with KEDA on the runs queue's lists, through the same Secret", () => {
    const hpas = ofKind("HorizontalPodAutoscaler");
    expect(hpas.map((hpa) => hpa.spec.scaleTargetRef.name).sort()).toEqual([deploymentOf("collab").metadata.name, deploymentOf("server").metadata.name].sort());
    for (const hpa of hpas) {
      expect(hpa.spec.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: expect.any(Number) } } }]);
      const target = named("Deployment", hpa.spec.scaleTargetRef.name);
      // Utilization is relative to the request: without one the HPA cannot compute it.
      expect(target.spec.template.spec.containers[0].resources.requests.cpu, hpa.metadata.name).toBeDefined();
    }
    const scaled = ofKind("ScaledObject")[0]!;
    expect(scaled.spec.scaleTargetRef.name).toBe(deploymentOf("worker").metadata.name);
    expect(scaled.spec.minReplicaCount, "workers also run cron and the reconciler: never 0").toBeGreaterThanOrEqual(1);
    const prefix = bullPrefix(config.data.REDIS_PREFIX);
    expect(scaled.spec.triggers.map((trigger: any) => [trigger.type, trigger.metadata.listName])).toEqual([
      ["redis", `${prefix}:runs:wait`],
      ["redis", `${prefix}:runs:active`],
    ]);
    expect(scaled.spec.triggers[1].metadata.listLength).toBe(config.data.WORKER_CONCURRENCY);
    for (const trigger of scaled.spec.triggers) {
      const auth = named("TriggerAuthentication", trigger.authenticationRef.name);
      for (const ref of auth.spec.secretTargetRef) {
        expect(ref.name).toBe(secret.metadata.name);
        expect(Object.keys(secret.stringData)).toContain(ref.key);
      }
    }
  });

  it("the lists the KEDA trigger reads are where BullMQ keeps the runs queue's waiting and running jobs", async () => {
    const env = testEnv();
    const redis = createRedis(env.REDIS_URL);
    const queue = createRunQueue(redis, env.REDIS_PREFIX);
    const wait = `${bullPrefix(env.REDIS_PREFIX)}:runs:wait`;
    const active = `${bullPrefix(env.REDIS_PREFIX)}:runs:active`;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let worker: Worker | undefined;
    try {
      await enqueueRun(queue, "run_keda_probe_1");
      await enqueueRun(queue, "run_keda_probe_2");
      expect(await redis.type(wait)).toBe("list");
      expect(await redis.llen(wait)).toBe(2);
      const connection = createRedis(env.REDIS_URL, { blocking: true });
      worker = new Worker("runs", () => held, { connection, prefix: bullPrefix(env.REDIS_PREFIX), concurrency: 1 });
      const deadline = Date.now() + 10_000;
      while ((await redis.llen(active)) < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await redis.type(active)).toBe("list");
      expect(await redis.llen(active)).toBe(1);
      expect(await redis.llen(wait)).toBe(1);
    } finally {
      release();
      await worker?.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await closeRedis(redis);
    }
  });
});

function isDeepMatch(selector: Record<string, string>, labels: Record<string, string>) {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
