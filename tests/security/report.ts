/**
 * The attack suite's figures: each attack class records how many attempts it tried, how many held and which
 * broke, one JSON file per class under tests/artifacts/security/ (test files run in parallel processes).
 * `npm test` prints them as one table after the run (scripts/test.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export const SECURITY_REPORT_DIR = path.resolve("tests/artifacts/security");

export interface AttackResult {
  tried: number;
  held: number;
  /** One line per attempt that broke (what was sent, what came back). */
  broken: string[];
}

export function recordAttackClass(name: string, result: AttackResult): void {
  mkdirSync(SECURITY_REPORT_DIR, { recursive: true });
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  writeFileSync(path.join(SECURITY_REPORT_DIR, `${slug}.json`), JSON.stringify({ name, tried: result.tried, held: result.held, broken: result.broken.length, examples: result.broken.slice(0, 5) }, null, 2));
}
