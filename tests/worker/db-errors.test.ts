/** The engine tells a duplicate delivery by a unique violation, from Prisma calls and raw statements alike (R5). */
import { createDb, isUniqueViolation, type Db } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEnv } from "../support/env.js";

let db: Db;
beforeAll(() => {
  db = createDb(testEnv().DATABASE_URL);
});
afterAll(async () => {
  await db?.$disconnect();
});

describe("isUniqueViolation", () => {
  it("recognises a duplicate key from a model call and from a raw statement, and nothing else", async () => {
    const email = `dup-${Date.now()}@example.test`;
    const insert = (id: string) => db.$queryRaw`INSERT INTO "User" (id, email, name, "passwordHash") VALUES (${id}, ${email}, 'Dup', 'x') RETURNING id`;
    await insert(`usr_a_${Date.now()}`);
    const raw = await insert(`usr_b_${Date.now()}`).catch((error: unknown) => error);
    expect(isUniqueViolation(raw)).toBe(true);
    const viaModel = await db.user.create({ data: { id: `usr_c_${Date.now()}`, email, name: "Dup", passwordHash: "x" } }).catch((error: unknown) => error);
    expect(isUniqueViolation(viaModel)).toBe(true);
    const other = await db.$queryRaw`SELECT * FROM "NoSuchTable"`.catch((error: unknown) => error);
    expect(isUniqueViolation(other)).toBe(false);
  });
});
