/**
 * axe-core in the browser tests: injects axe into a page, runs it, and keeps the violations of impact
 * serious or critical (the ones issue #17 asks to be zero), each with a readable line per failing node.
 *
 *   const report = await checkAccessibility(page);
 *   expect(report.violations, report.summary).toEqual([]);
 */
import axe from "axe-core";
import type { Page } from "playwright-core";

export type AxeImpact = "minor" | "moderate" | "serious" | "critical";

export interface AxeViolation {
  /** axe's rule id, e.g. "color-contrast", "label", "button-name". */
  rule: string;
  impact: AxeImpact;
  /** What the rule asks for, in axe's words. */
  help: string;
  helpUrl: string;
  /** One entry per failing element: its CSS selector path and axe's note on what is wrong with it. */
  nodes: { target: string; failure: string }[];
}

export interface AxeExclusion {
  /** A CSS selector of a region axe skips. */
  selector: string;
  /** Why: an exclusion must say what it hides and who owns the fix. */
  reason: string;
}

export interface AxeOptions {
  /** Lowest impact reported; "serious" by default (serious and critical). */
  minImpact?: AxeImpact;
  /** Regions skipped, each with its reason (listed in the summary, so nothing is excluded silently). */
  exclude?: AxeExclusion[];
  /** Rules switched off, each with its reason (listed in the summary too). */
  disableRules?: { rule: string; reason: string }[];
}

export interface AxeReport {
  violations: AxeViolation[];
  /** Multi-line text for an assertion message: each rule, its help and the failing selectors. */
  summary: string;
}

const impactOrder: AxeImpact[] = ["minor", "moderate", "serious", "critical"];

/** Runs axe-core (WCAG 2.x A/AA and best practices) on `page` as it is now. */
export async function checkAccessibility(page: Page, options: AxeOptions = {}): Promise<AxeReport> {
  const { minImpact = "serious", exclude = [], disableRules = [] } = options;
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === "object");
  // Evaluated through the DevTools protocol, not a <script> tag: the studio's CSP (nonce scripts only) would
  // block an injected tag, and the page must be checked with its real CSP on.
  if (!loaded) await page.evaluate(`${axe.source}\n;void 0`);
  const raw = await page.evaluate(
    async ({ excludeSelectors, rulesOff }) => {
      const axeInPage = (window as unknown as { axe: typeof import("axe-core") }).axe;
      const context = excludeSelectors.length ? { include: [["html"]], exclude: excludeSelectors.map((selector) => [selector]) } : document;
      const results = await axeInPage.run(context as never, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
        rules: Object.fromEntries(rulesOff.map((rule) => [rule, { enabled: false }])),
        resultTypes: ["violations"],
      });
      return results.violations.map((violation) => ({
        rule: violation.id,
        impact: (violation.impact ?? "minor") as string,
        help: violation.help,
        helpUrl: violation.helpUrl,
        nodes: violation.nodes.map((node) => ({
          target: node.target.map((part) => (Array.isArray(part) ? part.join(" >>> ") : String(part))).join(" "),
          failure: (node.failureSummary ?? "").replace(/Fix (any|all) of the following:/g, "").replace(/\s+/g, " ").trim(),
        })),
      }));
    },
    { excludeSelectors: exclude.map((entry) => entry.selector), rulesOff: disableRules.map((entry) => entry.rule) },
  );
  const floor = impactOrder.indexOf(minImpact);
  const violations = raw.filter((violation) => impactOrder.indexOf(violation.impact as AxeImpact) >= floor) as AxeViolation[];
  return { violations, summary: summarize(page.url(), violations, options) };
}

/** The report as text a person reads in a failed assertion. */
function summarize(url: string, violations: AxeViolation[], options: AxeOptions): string {
  const lines = [`axe on ${url}: ${violations.length} violation(s) of impact ${options.minImpact ?? "serious"} or worse`];
  for (const violation of violations) {
    lines.push(`- [${violation.impact}] ${violation.rule}: ${violation.help} (${violation.helpUrl})`);
    for (const node of violation.nodes.slice(0, 8)) lines.push(`    ${node.target} — ${node.failure.slice(0, 220)}`);
    if (violation.nodes.length > 8) lines.push(`    … and ${violation.nodes.length - 8} more`);
  }
  for (const entry of options.exclude ?? []) lines.push(`(excluded ${entry.selector}: ${entry.reason})`);
  for (const entry of options.disableRules ?? []) lines.push(`(rule ${entry.rule} off: ${entry.reason})`);
  return lines.join("\n");
}
