/**
 * The authorisation matrix, generated from one table: every operation that touches a workspace resource ×
 * every kind of caller, over GraphQL and over the REST compatibility routes.
 *
 * Rule (issue 3): viewers read, editors write, owners manage members; an outsider (a member of another
 * workspace) gets NOT_FOUND and learns nothing, not even existence; an anonymous caller is UNAUTHENTICATED.
 * A denied call must also leave no trace, and an allowed one must have its effect.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf } from "../support/api.js";
import {
  createAuthzFixture,
  EXPECTED,
  GHOST,
  OPERATIONS,
  REST_CODE,
  ROLES,
  type Fixture,
  type Operation,
  type Outcome,
  type Role,
  type Targets,
} from "../support/authz-operations.js";

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createAuthzFixture();
});
afterAll(async () => {
  await fixture?.stack.close();
});

const tokenOf = (role: Role) => (role === "anonymous" ? undefined : fixture.accounts[role].token);

async function targetsFor(op: Operation): Promise<Targets> {
  const marker = `row-${randomBytes(5).toString("hex")}`;
  return { ...fixture.targets, marker, ...(await op.prepare?.(fixture, marker)) };
}

interface Row {
  op: Operation;
  role: Role;
  expected: Outcome;
}
const rows = (transport: "graphql" | "rest"): Row[] =>
  OPERATIONS.filter((op) => op[transport]).flatMap((op) => ROLES.map((role) => ({ op, role, expected: EXPECTED[op.need][role] })));

describe("authorisation matrix over GraphQL", () => {
  it.each(rows("graphql").map((row) => ({ ...row, title: `${row.op.name} as ${row.role} → ${row.expected}` })))("$title", async ({ op, role, expected }) => {
    const targets = await targetsFor(op);
    const result = await op.graphql!.call(fixture.url, tokenOf(role), targets);

    expect(codeOf(result), JSON.stringify(result.errors)).toBe(expected);
    if (expected === "OK") {
      expect(result.data?.[op.graphql!.field]).toBeTruthy();
    } else {
      expect(result.data?.[op.graphql!.field] ?? null).toBeNull();
    }
    if (op.effect) expect(await op.effect(fixture, targets)).toBe(expected === "OK");

    if (role === "outsider") {
      // Learns nothing: the answer for a real resource is the answer for one that does not exist.
      const body = JSON.stringify({ data: result.data, errors: result.errors });
      for (const secret of fixture.secrets) expect(body).not.toContain(secret);
      const ghost = await op.graphql!.call(fixture.url, tokenOf(role), { ...GHOST, marker: targets.marker });
      expect(result.errors?.map((e) => ({ message: e.message, code: e.extensions?.code }))).toEqual(
        ghost.errors?.map((e) => ({ message: e.message, code: e.extensions?.code })),
      );
    }
  });
});

describe("authorisation matrix over REST", () => {
  it.each(rows("rest").map((row) => ({ ...row, title: `${row.op.name} as ${row.role} → ${row.expected}` })))("$title", async ({ op, role, expected }) => {
    const targets = await targetsFor(op);
    const result = await op.rest!(fixture.url, tokenOf(role), targets);

    expect(REST_CODE[result.status] ?? `HTTP ${result.status}`, JSON.stringify(result.body)).toBe(expected);
    if (expected !== "OK") {
      expect(result.body).toMatchObject({ error: { code: expected, message: expect.any(String) } });
    }
    if (op.effect) expect(await op.effect(fixture, targets)).toBe(expected === "OK");

    if (role === "outsider") {
      const body = JSON.stringify(result.body);
      for (const secret of fixture.secrets) expect(body).not.toContain(secret);
      const ghost = await op.rest!(fixture.url, tokenOf(role), { ...GHOST, marker: targets.marker });
      expect({ status: result.status, body: result.body }).toEqual({ status: ghost.status, body: ghost.body });
    }
  });
});
