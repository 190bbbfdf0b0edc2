/**
 * `npm test`: vitest over tests/, then one plain summary line `N passed, N failed` (what CI reads).
 * Extra arguments go to vitest (`npm test -- tests/domain`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const report = path.join(root, "tests/artifacts/vitest-report.json");
mkdirSync(path.dirname(report), { recursive: true });
rmSync(report, { force: true });
// The attack suite (tests/security) writes one figure file per attack class here; stale ones must not show.
const securityDir = path.join(root, "tests/artifacts/security");
rmSync(securityDir, { recursive: true, force: true });

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
printSecurityTable();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && vitest.status === 0 ? 0 : 1);

/** The attack suite's tried / held / broken table (tests/security/report.ts), when those tests ran. */
function printSecurityTable() {
  if (!existsSync(securityDir)) return;
  const rows = readdirSync(securityDir)
    .filter((file) => file.endsWith(".json"))
    .map((file) => JSON.parse(readFileSync(path.join(securityDir, file), "utf8")) as { name: string; tried: number; held: number; broken: number })
    .sort((a, b) => a.name.localeCompare(b.name));
  if (!rows.length) return;
  const width = Math.max(...rows.map((row) => row.name.length), 12);
  console.log(`\n${"attack class".padEnd(width)}  tried   held  broken`);
  for (const row of rows) console.log(`${row.name.padEnd(width)}  ${String(row.tried).padStart(5)}  ${String(row.held).padStart(5)}  ${String(row.broken).padStart(6)}`);
  const total = rows.reduce((sum, row) => ({ tried: sum.tried + row.tried, held: sum.held + row.held, broken: sum.broken + row.broken }), { tried: 0, held: 0, broken: 0 });
  console.log(`${"all".padEnd(width)}  ${String(total.tried).padStart(5)}  ${String(total.held).padStart(5)}  ${String(total.broken).padStart(6)}\n`);
}
