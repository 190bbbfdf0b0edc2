/**
 * `npm test`: vitest over tests/, then one plain summary line `N passed, N failed` (what CI reads).
 * Extra arguments go to vitest (`npm test -- tests/domain`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const report = path.join(root, "tests/artifacts/vitest-report.json");
mkdirSync(path.dirname(report), { recursive: true });
rmSync(report, { force: true });

const vitest = spawnSync(
  path.join(root, "node_modules/.bin/vitest"),
  ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit" },
);

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const result = JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number; testResults: { status: string; assertionResults: unknown[] }[] };
  passed = result.numPassedTests;
  failed = result.numFailedTests;
  // A test file that fails to load has no test results of its own; count it, so it cannot pass unseen.
  failed += result.testResults.filter((file) => file.status === "failed" && file.assertionResults.length === 0).length;
}
if (vitest.status !== 0 && failed === 0) failed = 1; // vitest itself failed (setup error, crash)
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && vitest.status === 0 ? 0 : 1);
