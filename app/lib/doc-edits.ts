/**
 * The edits the studio makes to a workflow's Y.Doc. Each is one transaction tagged LOCAL_ORIGIN, so the
 * per-user undo manager sees it and remote peers receive it as one update. Text people type (names,
 * expressions, URLs, …) is co-typed instead, through ~/lib/text-binding.ts.
 */
import {
  createStepMap,
  docMaps,
  Edge,
  freshStepKey,
  isTriggerType,
  newId,
  removeStep,
  Step,
  stepKeyBase,
  stepReferenceSplices,
  takenStepNamesInDoc,
  uniqueStepKey,
  type WorkflowDefinition,
} from "@algorythmos/domain";
import * as Y from "yjs";
import { z } from "zod";
import { LOCAL_ORIGIN } from "./collab";
import type { JsonSchema } from "./operations";

/** Config with the defaults the type's JSON Schema declares, so a new step starts as valid as it can. */
export function defaultConfig(schema: JsonSchema): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (property.default !== undefined) config[key] = structuredClone(property.default);
    // An empty required string reads as "URL is required" rather than "expected string, received undefined".
    else if (required.has(key) && property.type === "string" && !property.enum) config[key] = "";
  }
  return config;
}

export function addStep(doc: Y.Doc, step: { type: string; name: string; config: Record<string, unknown>; position: { x: number; y: number } }): string {
  const id = newId("step", 12);
  // L12: a readable key from the name, what expressions call the step (`steps.<key>.output`).
  doc.transact(() => docMaps(doc).steps.set(id, createStepMap({ id, key: freshStepKey(doc, step.name, step.type), ...step })), LOCAL_ORIGIN);
  return id;
}

export function deleteSteps(doc: Y.Doc, stepIds: string[]) {
  doc.transact(() => {
    for (const id of stepIds) removeStep(doc, id, LOCAL_ORIGIN);
  }, LOCAL_ORIGIN);
}

export function moveSteps(doc: Y.Doc, moves: { id: string; x: number; y: number }[]) {
  const { steps } = docMaps(doc);
  doc.transact(() => {
    for (const move of moves) {
      const position = steps.get(move.id)?.get("position");
      if (position instanceof Y.Map) {
        position.set("x", Math.round(move.x));
        position.set("y", Math.round(move.y));
      }
    }
  }, LOCAL_ORIGIN);
}

/** `label` names the source output the edge follows (condition true/false, a switch branch, body, error). */
export function connectSteps(doc: Y.Doc, source: string, target: string, label?: string) {
  const { edges } = docMaps(doc);
  for (const edge of edges.values()) {
    if (edge.get("source") === source && edge.get("target") === target && edge.get("label") === label) return; // already there
  }
  doc.transact(() => {
    const edge = new Y.Map<unknown>();
    edge.set("source", source);
    edge.set("target", target);
    if (label) edge.set("label", label);
    edges.set(newId("edge", 12), edge);
  }, LOCAL_ORIGIN);
}

export function deleteEdges(doc: Y.Doc, edgeIds: string[]) {
  const { edges } = docMaps(doc);
  doc.transact(() => {
    for (const id of edgeIds) edges.delete(id);
  }, LOCAL_ORIGIN);
}

export function stepMap(doc: Y.Doc, stepId: string): Y.Map<unknown> | null {
  const step = docMaps(doc).steps.get(stepId);
  return step instanceof Y.Map ? step : null;
}

/** Sets one config field; `undefined` removes it (an emptied optional field). */
export function setConfigValue(doc: Y.Doc, stepId: string, key: string, value: unknown) {
  const step = stepMap(doc, stepId);
  if (!step) return;
  doc.transact(() => {
    let config = step.get("config");
    if (!(config instanceof Y.Map)) step.set("config", (config = new Y.Map()));
    const map = config as Y.Map<unknown>;
    if (value === undefined) map.delete(key);
    else map.set(key, value);
  }, LOCAL_ORIGIN);
}

/**
 * A step dropped onto an edge goes in between: the edge `source → target` (label L) becomes
 * `source → new` (label L, the same output of the source) and `new → target`, in one transaction with the
 * new step, so one undo takes it all back. Returns the new step's id, or null when the edge is gone.
 */
export function insertStepOnEdge(
  doc: Y.Doc,
  edgeId: string,
  step: { type: string; name: string; config: Record<string, unknown>; position: { x: number; y: number } },
  /** Steps moved out of the new one's way (the ones after it), in the same transaction. */
  moves: { id: string; x: number; y: number }[] = [],
): string | null {
  const { steps, edges } = docMaps(doc);
  const edge = edges.get(edgeId);
  if (!(edge instanceof Y.Map)) return null;
  const source = edge.get("source");
  const target = edge.get("target");
  const label = edge.get("label");
  if (typeof source !== "string" || typeof target !== "string") return null;
  const id = newId("step", 12);
  doc.transact(() => {
    steps.set(id, createStepMap({ id, key: freshStepKey(doc, step.name, step.type), ...step }));
    edges.delete(edgeId);
    edges.set(newId("edge", 12), edgeMap(source, id, typeof label === "string" ? label : undefined));
    // A trigger has no input, so nothing can lead into it; a new trigger dropped on an edge just replaces the source's link.
    if (!isTriggerType(step.type)) edges.set(newId("edge", 12), edgeMap(id, target, undefined));
    moveSteps(doc, moves);
  }, LOCAL_ORIGIN);
  return id;
}

function edgeMap(source: string, target: string, label: string | undefined): Y.Map<unknown> {
  const edge = new Y.Map<unknown>();
  edge.set("source", source);
  edge.set("target", target);
  if (label) edge.set("label", label);
  return edge;
}

/** What copying steps puts on the clipboard: a fragment of a workflow definition (its steps and their edges). */
export const STEPS_CLIPBOARD_KIND = "algorythmos/steps";
const ClipboardSteps = z.object({
  kind: z.string().optional(),
  steps: z.array(Step).min(1, "it holds no steps"),
  edges: z.array(Edge).default([]),
});
export type StepsFragment = { steps: Step[]; edges: Edge[] };

/** The selected steps as definition JSON, with the edges between them (edges to steps left behind are not copied). */
export function copyStepsJson(definition: WorkflowDefinition, stepIds: string[]): string | null {
  const ids = new Set(stepIds);
  const steps = definition.steps.filter((s) => ids.has(s.id));
  if (!steps.length) return null;
  const edges = definition.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  return JSON.stringify({ kind: STEPS_CLIPBOARD_KIND, steps, edges }, null, 2);
}

/**
 * Reads pasted text as steps: copied steps, or a whole workflow definition (its steps and edges). Anything
 * else is refused with a message saying what was expected and what was wrong.
 */
export function parseStepsJson(text: string): { ok: true; fragment: StepsFragment } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (!trimmed) return { ok: false, message: "Nothing to paste: the clipboard is empty." };
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (error) {
    return { ok: false, message: `Cannot paste: the clipboard does not hold steps (not JSON: ${(error as Error).message}). Copy steps on a canvas, or paste a workflow's JSON.` };
  }
  const expected = 'Expected { "steps": [...], "edges": [...] } as copied from a canvas.';
  if (!json || typeof json !== "object" || !Array.isArray((json as { steps?: unknown }).steps)) return { ok: false, message: `Cannot paste: this JSON has no "steps" list. ${expected}` };
  const parsed = ClipboardSteps.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? ` at ${issue.path.join(".")}` : "";
    return { ok: false, message: `Cannot paste these steps${where}: ${issue.message}. ${expected}` };
  }
  // Edges must join pasted steps; one that does not is dropped rather than left dangling.
  const ids = new Set(parsed.data.steps.map((s) => s.id));
  return { ok: true, fragment: { steps: parsed.data.steps, edges: parsed.data.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) } };
}

/**
 * Config strings with every reference to a copied step (`steps.<key or id>`, the domain's reference forms) made a
 * reference to its copy's new key. All splices are found on the original text first, so two renames never chain.
 */
function remapReferences(value: unknown, renames: Map<string, string>): unknown {
  if (typeof value === "string") {
    const splices = [...renames].flatMap(([from, to]) => stepReferenceSplices(value, from, to)).sort((a, b) => b.index - a.index);
    let text = value;
    let limit = Infinity;
    for (const splice of splices) {
      if (splice.index + splice.remove > limit) continue; // overlaps one applied already
      text = text.slice(0, splice.index) + splice.insert + text.slice(splice.index + splice.remove);
      limit = splice.index;
    }
    return text;
  }
  if (Array.isArray(value)) return value.map((item) => remapReferences(item, renames));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, remapReferences(v, renames)]));
  return value;
}

/** `name`, or `name 2`, `name 3`, … when another step of the workflow already has it. */
function uniqueName(name: string, taken: Set<string>): string {
  if (!name || !taken.has(name)) return name;
  const base = name.replace(/ \d+$/, "");
  for (let n = 2; ; n++) if (!taken.has(`${base} ${n}`)) return `${base} ${n}`;
}

/**
 * Adds copies of the fragment's steps (new ids, names and keys made unique, positions moved by `offset`) and of
 * the edges between them, in one transaction. References between the copied steps follow the new keys. Returns
 * the new ids in the fragment's order.
 */
export function pasteSteps(doc: Y.Doc, fragment: StepsFragment, offset: { x: number; y: number }): string[] {
  const { steps, edges } = docMaps(doc);
  const ids = new Map(fragment.steps.map((s) => [s.id, newId("step", 12)]));
  const takenNames = new Set<string>();
  for (const step of steps.values()) {
    const name = step instanceof Y.Map ? step.get("name") : null;
    takenNames.add(name instanceof Y.Text ? name.toString() : typeof name === "string" ? name : "");
  }
  // Each copy gets a name and a readable key (L12) of its own; references between the copies follow the new keys.
  const takenKeys = takenStepNamesInDoc(doc);
  for (const id of ids.values()) takenKeys.add(id);
  const copies = fragment.steps.map((step) => {
    const name = uniqueName(step.name, takenNames);
    takenNames.add(name);
    const key = uniqueStepKey(step.key ?? stepKeyBase(name || step.type), takenKeys);
    takenKeys.add(key);
    return { step, id: ids.get(step.id)!, name, key };
  });
  const renames = new Map<string, string>();
  for (const { step, key } of copies) {
    renames.set(step.id, key);
    if (step.key) renames.set(step.key, key);
  }
  doc.transact(() => {
    for (const { step, id, name, key } of copies) {
      const config = remapReferences(step.config, renames) as Record<string, unknown>;
      steps.set(id, createStepMap({ ...step, id, key, name, config, position: { x: Math.round(step.position.x + offset.x), y: Math.round(step.position.y + offset.y) } }));
    }
    for (const edge of fragment.edges) edges.set(newId("edge", 12), edgeMap(ids.get(edge.source)!, ids.get(edge.target)!, edge.label));
  }, LOCAL_ORIGIN);
  return [...ids.values()];
}
