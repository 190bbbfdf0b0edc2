/**
 * The studio build `npm test` makes is the one `npm start` and the cluster then serve: it must be a production
 * build, although vitest runs with NODE_ENV=test. A development build compiles JSX to jsxDEV, which the production
 * React a production server loads does not have: every page answered 500 ("jsxDEV is not a function").
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";

const root = path.resolve(import.meta.dirname, "../..");

describe("studio build mode", () => {
  it("a build made under NODE_ENV=test is a production build", async () => {
    expect(process.env.NODE_ENV).toBe("test");
    await buildStudioIfStale(root, () => {});
    expect(readFileSync(path.join(root, "build/index.js"), "utf8")).not.toContain("jsxDEV");
  }, 300_000);
});
