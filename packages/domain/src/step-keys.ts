/**
 * Readable step keys (docs/ydoc-layout.md L12, docs/run-engine.md R55–R56): what expressions and templates call a
 * step, `steps.<key>.output`, instead of its internal id. Pure functions over the definition; the Y.Doc edit that
 * renames a key and its references is `renameStepKey` (./step-key-rename.ts).
 */
import { STEP_KEY_PATTERN, StepKey, type Step } from "./definition.js";
import type { Problem } from "./problem.js";

/** What an expression calls the step: its key, or its id while it has none (steps made before keys). */
export const stepRefName = (step: Pick<Step, "id" | "key">): string => step.key ?? step.id;

/** A key made from a step's name: "Fetch user" → "fetch_user"; a name with no letters gives "step". */
export function stepKeyBase(name: string): string {
  let key = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!/^[a-z]/.test(key)) key = key ? `step_${key}` : "step";
  return key.slice(0, 64).replace(/_+$/, "");
}

/** `base`, or `base_2`, `base_3`, … when another step already has it (as key or as id). */
export function uniqueStepKey(base: string, taken: ReadonlySet<string>): string {
  const root = STEP_KEY_PATTERN.test(base) ? base : stepKeyBase(base);
  if (!taken.has(root)) return root;
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const candidate = root.slice(0, 64 - suffix.length) + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}

/** The names steps are already called by in expressions (keys and ids), except `exceptStepId`'s own. */
export function takenStepNames(steps: readonly Pick<Step, "id" | "key">[], exceptStepId?: string): Set<string> {
  const taken = new Set<string>();
  for (const step of steps) {
    if (step.id === exceptStepId) continue;
    taken.add(step.id);
    if (step.key) taken.add(step.key);
  }
  return taken;
}

/**
 * Why `key` cannot be this step's key, or null: the pattern, or another step of the workflow already called so
 * (by key, or by id — `steps.<id>` keeps working, R55, so a key may not shadow another step's id).
 */
export function stepKeyError(key: string, stepId: string, steps: readonly Pick<Step, "id" | "key" | "name">[]): string | null {
  const parsed = StepKey.safeParse(key);
  if (!parsed.success) return parsed.error.issues[0]!.message;
  const other = steps.find((step) => step.id !== stepId && (step.key === key || step.id === key));
  return other ? `Another step ("${other.name || other.id}") is already called ${key}` : null;
}

/** L12: every key is unique per workflow, and no key is another step's id. One problem per step that clashes. */
export function stepKeyProblems(steps: readonly Step[]): Problem[] {
  const problems: Problem[] = [];
  for (const step of steps) {
    if (step.key === undefined) continue;
    const clash = steps.find((other) => other !== step && other.id !== step.id && (other.key === step.key || other.id === step.key));
    if (clash) {
      problems.push({
        code: "DUPLICATE_STEP_KEY",
        stepId: step.id,
        message: `Step "${step.name || step.id}": the key ${step.key} is also ${clash.key === step.key ? "the key" : "the id"} of step "${clash.name || clash.id}"; give each step its own key`,
      });
    }
  }
  return problems;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A reference to step `name` in an expression or template: `steps.name`, `steps["name"]`, `steps['name']`, steps.`name`. */
function referencePattern(name: string): RegExp {
  const n = escapeRegExp(name);
  return new RegExp(`(?<![A-Za-z0-9_$.])steps\\s*(?:\\.\\s*(?:${n}(?![A-Za-z0-9_-])|\`${n}\`)|\\[\\s*(["'])${n}\\1\\s*\\])`, "g");
}

/**
 * The places in `text` that refer to step `name`, each to be replaced so it refers to `to` (last first is safe to
 * apply): in `steps.name` only the name is replaced (two people renaming one step at once then leave the two new
 * names side by side after `steps.`, which the repair recognises, L12); the quoted forms become `steps.<to>`.
 */
export function stepReferenceSplices(text: string, name: string, to: string): { index: number; remove: number; insert: string }[] {
  if (!text.includes(name)) return [];
  return [...text.matchAll(referencePattern(name))].map((match) =>
    match[0].endsWith(name)
      ? { index: match.index! + match[0].length - name.length, remove: name.length, insert: to }
      : { index: match.index!, remove: match[0].length, insert: `steps.${to}` },
  );
}

/** `text` with every reference to step `from` made a reference to `to`. */
export function rewriteStepReferences(text: string, from: string, to: string): string {
  let result = text;
  for (const splice of stepReferenceSplices(text, from, to).reverse()) result = result.slice(0, splice.index) + splice.insert + result.slice(splice.index + splice.remove);
  return result;
}
