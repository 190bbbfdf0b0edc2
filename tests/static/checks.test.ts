import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { printedSchema } from "../../server/graphql/schema.js";
import { checkImports } from "../../scripts/check-imports.js";

describe("static checks", () => {
  it("the committed schema.graphql matches the Pothos schema (run `npm run schema` when it does not)", () => {
    expect(readFileSync("schema.graphql", "utf8")).toBe(printedSchema());
  });

  it("imports flow one way and form no cycles", () => {
    expect(checkImports()).toEqual([]);
  });

  it("the import check catches a forbidden import and a cycle", () => {
    const fixture = mkdtempSync(path.join(tmpdir(), "algo-imports-"));
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true });
      writeFileSync(path.join(fixture, file), text);
    };
    write("app/page.tsx", `import { x } from "../server/a.js";\nexport const y = x;\n`);
    write("server/a.ts", `import { b } from "./b.js";\nexport const x = b;\n`);
    write("server/b.ts", `import { x } from "./a.js";\nexport const b = 1; export const c = x;\n`);
    const problems = checkImports(fixture);
    expect(problems.some((line) => line.includes("app must not import server"))).toBe(true);
    expect(problems.some((line) => line.startsWith("import cycle:"))).toBe(true);
  });

  it("the whole project type-checks (npm run typecheck)", () => {
    let output = "";
    try {
      execFileSync("node_modules/.bin/tsc", ["--noEmit"], { encoding: "utf8", stdio: "pipe" });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe("");
  }, 240_000);
});
