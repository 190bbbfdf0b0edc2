/**
 * Backup and restore as docs/operations.md describes them: `pg_dump --format=custom` of a studio's database,
 * `pg_restore --no-owner` into a new database, and a studio started on the restored one serves the same
 * workflows and runs, and its users log in with their passwords.
 */
import { applyMigrations } from "@algorythmos/platform";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { graphql, signUpUser, startTestStack, waitFor } from "../support/stack.js";

const suffix = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
const databaseUrl = (name: string) => {
  const url = new URL(inject("databaseUrl"));
  url.pathname = `/${name}`;
  return url.toString();
};
const original = `algo_backup_${suffix}`;
const restored = `algo_restore_${suffix}`;
const folder = mkdtempSync(path.join(tmpdir(), "backup-"));

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: databaseUrl("postgres") });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const stacks: Stack[] = [];
afterAll(async () => {
  for (const stack of stacks) await stack.close().catch(() => {});
  for (const name of [original, restored]) await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
  rmSync(folder, { recursive: true, force: true });
});

const RUN = `query($id: ID!) { run(id: $id) { id status output steps { stepId status output } } }`;
const WORKFLOWS = `query($workspaceId: ID!) { workflows(workspaceId: $workspaceId) { edges { node { id name } } } }`;
const RUNS = `query($id: ID!) { runs(workflowId: $id) { edges { node { id status } } } }`;

describe("backup and restore", () => {
  it("a pg_dump restored into a new database serves the same workflows, runs and log-ins", async () => {
    await admin(`CREATE DATABASE "${original}"`);
    await applyMigrations(databaseUrl(original), path.resolve("prisma/migrations"));
    const before = await startTestStack({ collab: false, worker: true }, { DATABASE_URL: databaseUrl(original) });
    stacks.push(before);

    const user = await signUpUser(before.url, "Backup");
    const definition = {
      name: "Kept",
      steps: [
        { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
        { id: "shape", type: "transform", name: "Shape", config: { expression: `{ "kept": true }` }, position: { x: 200, y: 0 } },
      ],
      edges: [{ id: "start-shape", source: "start", target: "shape" }],
    };
    const created = await graphql(before.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: user.workspaceId, name: "Kept", definition } }, user.token);
    const workflowId: string = created.data.createWorkflow.id;
    const started = await graphql(before.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId } }, user.token);
    const runId: string = started.data.startRun.id;
    const run = await waitFor("the run to succeed", async () => {
      const found = (await graphql(before.url, RUN, { id: runId }, user.token)).data?.run;
      return found?.status === "succeeded" ? found : null;
    });
    const workflowsBefore = (await graphql(before.url, WORKFLOWS, { workspaceId: user.workspaceId }, user.token)).data;

    // The backup, taken while the studio runs (pg_dump reads one consistent snapshot).
    const dump = path.join(folder, "studio.dump");
    execFileSync("pg_dump", ["--format=custom", "--no-owner", `--file=${dump}`, databaseUrl(original)], { stdio: ["ignore", "ignore", "pipe"] });
    await before.close();
    stacks.length = 0;
    await admin(`DROP DATABASE "${original}" WITH (FORCE)`); // the disaster

    await admin(`CREATE DATABASE "${restored}"`);
    execFileSync("pg_restore", ["--no-owner", "--exit-on-error", `--dbname=${databaseUrl(restored)}`, dump], { stdio: ["ignore", "ignore", "pipe"] });
    const after = await startTestStack({ collab: false, worker: false }, { DATABASE_URL: databaseUrl(restored) });
    stacks.push(after);

    const logIn = await graphql(after.url, `mutation($input: LogInInput!) { logIn(input: $input) { token } }`, { input: { email: user.email, password: "correct horse battery" } });
    const token: string = logIn.data.logIn.token;
    expect((await graphql(after.url, WORKFLOWS, { workspaceId: user.workspaceId }, token)).data).toEqual(workflowsBefore);
    expect((await graphql(after.url, RUN, { id: runId }, token)).data.run).toEqual(run);
    expect((await graphql(after.url, RUNS, { id: workflowId }, token)).data.runs.edges).toEqual([{ node: { id: runId, status: "succeeded" } }]);
    const definitionAfter = await graphql(after.url, `query($id: ID!) { workflow(id: $id) { definition } }`, { id: workflowId }, token);
    expect(definitionAfter.data.workflow.definition.steps.map((step: { id: string }) => step.id)).toEqual(["start", "shape"]);
  }, 120_000);
});
