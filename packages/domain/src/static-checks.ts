/**
 * Static checks (docs/run-engine.md R52–R54): what the worker would refuse before a step runs, found while
 * editing — URL shape (R52), credentials the workspace lacks (R52, needs the workspace's credentials as
 * context) — and what a run would silently leave out: steps no trigger reaches and triggers that start nothing
 * (R53, warnings). Every message is made here (or by validateDefinition and the config schemas it applies),
 * so the Problems list, the node's badge, the publish dialog and a refused run say the same thing.
 */
import type { CredentialType } from "./credentials.js";
import type { WorkflowDefinition } from "./definition.js";
import { outgoingEdges } from "./graph.js";
import { isStepType, isTriggerType, stepTypes } from "./step-types.js";
import type { Problem } from "./problem.js";

/** A workspace credential as the editor lists it (names and types only; secrets never leave the server). */
export interface CredentialInfo {
  id: string;
  name: string;
  type: string;
}

/** What validation may know beyond the definition. Absent parts are not checked (the check cannot be made). */
export interface ValidationContext {
  /** The workspace's credentials: given, every `credentialId` must name one of the right type (R52). */
  credentials?: readonly CredentialInfo[];
}

type Step = WorkflowDefinition["steps"][number];
const labelOf = (step: Pick<Step, "id" | "name">) => step.name || step.id;
/** The one shape of a step's config problem message: `Step "<name>": <field>: <what>`. */
export function stepProblemMessage(step: Pick<Step, "id" | "name">, path: readonly (string | number)[], what: string): string {
  return `Step "${labelOf(step)}": ${path.length ? `${path.join(".")}: ` : ""}${what}`;
}

// ---------- R52: URLs ----------

/** `{{ path }}` as the worker renders it (R12): a dotted path, nothing else. */
const TEMPLATE = /\{\{\s*[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*\s*\}\}/g;

/**
 * Why an http URL template cannot work, or null. Templates are replaced by a sample value first; a URL that
 * starts with a template gets its scheme and host at run time, so only its templates are checked. The messages
 * are the worker's (worker/ssrf.ts outboundUrl) for the same mistakes.
 */
export function urlTemplateError(url: string): string | null {
  const text = url.trim();
  if (!text) return null; // "URL is required" comes from the config schema
  const rendered = text.replace(TEMPLATE, "x");
  const open = rendered.indexOf("{{");
  const close = rendered.indexOf("}}");
  if (open >= 0 || close >= 0) {
    const at = open >= 0 ? open : close;
    return `"${rendered.slice(at, at + 40)}" is not a template: a template is a dotted path in double braces, e.g. {{ input.id }} (expressions are not allowed here)`;
  }
  if (/^\{\{/.test(text)) return null;
  let parsed: URL;
  try {
    parsed = new URL(rendered);
  } catch {
    return /^[a-z][a-z0-9+.-]*:/i.test(rendered) ? `Invalid URL "${text.slice(0, 200)}"` : `Invalid URL "${text.slice(0, 200)}": start it with https:// or http://`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return `Only http and https URLs are allowed, not ${parsed.protocol}`;
  if (parsed.username || parsed.password) return "Credentials in the URL are not allowed; use a header";
  if (!parsed.hostname) return `Invalid URL "${text.slice(0, 200)}": it has no host`;
  return null;
}

/** The URL fields of a step, with their config paths: http.request's url and an ai.agent's HTTP tools' urls. */
function urlFields(step: Step): { path: (string | number)[]; url: string }[] {
  const config = step.config as Record<string, unknown>;
  if (step.type === "http.request" && typeof config.url === "string") return [{ path: ["url"], url: config.url }];
  if (step.type === "ai.agent" && Array.isArray(config.tools)) {
    return config.tools.flatMap((tool, index) => {
      const entry = tool as { kind?: unknown; url?: unknown } | null;
      return entry?.kind === "http" && typeof entry.url === "string" ? [{ path: ["tools", index, "url"], url: entry.url }] : [];
    });
  }
  return [];
}

export function urlProblems(definition: Pick<WorkflowDefinition, "steps">): Problem[] {
  const problems: Problem[] = [];
  for (const step of definition.steps) {
    for (const { path, url } of urlFields(step)) {
      const error = urlTemplateError(url);
      if (error) problems.push({ code: "INVALID_URL", stepId: step.id, path, message: stepProblemMessage(step, path, error) });
    }
  }
  return problems;
}

// ---------- R52: credentials ----------

/** The credentials a step names, with their config paths and the type each must have (the registry's, R52). */
function credentialRefs(step: Step): { path: (string | number)[]; id: string; type: CredentialType }[] {
  if (!isStepType(step.type)) return [];
  const config = step.config as Record<string, unknown>;
  const refs: { path: (string | number)[]; id: string; type: CredentialType }[] = [];
  const type = (stepTypes[step.type] as { credentialType?: CredentialType }).credentialType;
  if (type && typeof config.credentialId === "string" && config.credentialId) refs.push({ path: ["credentialId"], id: config.credentialId, type });
  if (step.type === "ai.agent" && Array.isArray(config.tools)) {
    config.tools.forEach((tool, index) => {
      const entry = tool as { kind?: unknown; credentialId?: unknown } | null;
      // An HTTP tool's credential is an httpHeader one, as http.request's (R43).
      if (entry?.kind === "http" && typeof entry.credentialId === "string" && entry.credentialId) refs.push({ path: ["tools", index, "credentialId"], id: entry.credentialId, type: "httpHeader" });
    });
  }
  return refs;
}

/**
 * Why a credential reference fails, or null — the worker's rule and words (worker/engine/credentials.ts): it
 * must be a credential of the run's workspace, of the type the step needs.
 */
export function credentialError(id: string, type: string, credentials: readonly CredentialInfo[]): string | null {
  const found = credentials.find((credential) => credential.id === id);
  if (!found) return `Credential "${id}" does not exist in this workspace`;
  if (found.type !== type) return `Credential "${found.name}" is a ${found.type} credential, not ${type}`;
  return null;
}

export function credentialProblems(definition: Pick<WorkflowDefinition, "steps">, credentials: readonly CredentialInfo[]): Problem[] {
  const problems: Problem[] = [];
  for (const step of definition.steps) {
    for (const { path, id, type } of credentialRefs(step)) {
      const error = credentialError(id, type, credentials);
      if (error) problems.push({ code: "MISSING_CREDENTIAL", stepId: step.id, path, message: stepProblemMessage(step, path, error) });
    }
  }
  return problems;
}

// ---------- R53: reachability (warnings) ----------

/**
 * R53: steps no trigger reaches (a run never executes them, R4) and triggers with nothing after them, while
 * the workflow has other steps. Warnings: they do not block running or publishing.
 */
export function reachabilityWarnings(definition: Pick<WorkflowDefinition, "steps" | "edges">): Problem[] {
  const out = outgoingEdges(definition);
  const triggers = definition.steps.filter((step) => isTriggerType(step.type));
  if (!triggers.length) return []; // MISSING_TRIGGER says it
  const reached = new Set<string>();
  const queue = triggers.map((step) => step.id);
  for (const id of queue) reached.add(id);
  while (queue.length) {
    for (const edge of out.get(queue.shift()!) ?? []) {
      if (reached.has(edge.target)) continue;
      reached.add(edge.target);
      queue.push(edge.target);
    }
  }
  const warnings: Problem[] = [];
  const others = definition.steps.some((step) => !isTriggerType(step.type));
  for (const step of definition.steps) {
    if (isTriggerType(step.type)) {
      if (others && !(out.get(step.id) ?? []).length) {
        warnings.push({ code: "UNCONNECTED_TRIGGER", severity: "warning", stepId: step.id, message: `Trigger "${labelOf(step)}" is not connected: a run it starts does nothing. Connect it to a step` });
      }
    } else if (!reached.has(step.id)) {
      warnings.push({ code: "UNREACHABLE_STEP", severity: "warning", stepId: step.id, message: `Step "${labelOf(step)}" never runs: no trigger leads to it. Connect it to a trigger or a step after one` });
    }
  }
  return warnings;
}

// ---------- what the editor shows ----------

/**
 * What the editor lists (R54): the document's own problems (definitionFromDoc: its layout and validateDefinition),
 * the checks that need the workspace (credentials), then the warnings. Recomputed from the live document on
 * every change, so a fixed problem disappears at once.
 */
export function editorProblems(documentProblems: readonly Problem[], definition: WorkflowDefinition, context: ValidationContext = {}): Problem[] {
  const credentials = context.credentials ? credentialProblems(definition, context.credentials) : [];
  return [...documentProblems, ...credentials, ...reachabilityWarnings(definition)];
}

/** Whether a problem blocks running and publishing (every problem but a warning). */
export const isBlockingProblem = (problem: Pick<Problem, "severity">): boolean => problem.severity !== "warning";
