import * as Y from "yjs";
import { DEFINITION_SCHEMA_VERSION, WorkflowDefinition, type Edge, type Step } from "./definition.js";
import type { Problem } from "./validation.js";
import { validateDefinition } from "./validation.js";

/**
 * The Y.Doc layout of a workflow — a contract between studio, collab, worker and API (docs/ydoc-layout.md):
 *   meta:  Y.Map { schemaVersion, name, description }
 *   steps: Y.Map stepId → Y.Map { type, name, config: Y.Map, position: Y.Map { x, y }, notes: Y.XmlFragment }
 *   edges: Y.Map edgeId → Y.Map { source, target, label }
 * Maps are keyed by id so concurrent adds and deletes of different steps merge cleanly.
 */
export const DOC_KEYS = { meta: "meta", steps: "steps", edges: "edges" } as const;

export type StepMap = Y.Map<unknown>;

export function docMaps(doc: Y.Doc) {
  return {
    meta: doc.getMap<unknown>(DOC_KEYS.meta),
    steps: doc.getMap<StepMap>(DOC_KEYS.steps),
    edges: doc.getMap<Y.Map<unknown>>(DOC_KEYS.edges),
  };
}

// ---------- reading ----------

const asString = (value: unknown, fallback = "") => (typeof value === "string" ? value : fallback);
const asNumber = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);

function yValueToJson(value: unknown): unknown {
  if (value instanceof Y.AbstractType) return value.toJSON();
  return value;
}

/** Plain text of a notes fragment: one line per block. */
export function fragmentText(fragment: Y.XmlFragment): string {
  const lines: string[] = [];
  const walk = (node: Y.XmlElement | Y.XmlFragment | Y.XmlText, line: string[]) => {
    if (node instanceof Y.XmlText) {
      for (const op of node.toDelta() as { insert: unknown }[]) if (typeof op.insert === "string") line.push(op.insert);
      return;
    }
    for (const child of node.toArray()) {
      if (child instanceof Y.XmlElement) {
        const inner: string[] = [];
        walk(child, inner);
        if (child.nodeName === "paragraph" || child.nodeName === "heading") lines.push(inner.join(""));
        else line.push(inner.join(""));
      } else if (child instanceof Y.XmlText) walk(child, line);
    }
  };
  const top: string[] = [];
  walk(fragment, top);
  if (top.length) lines.push(top.join(""));
  return lines.join("\n");
}

function readStep(id: string, map: unknown): Step | null {
  if (!(map instanceof Y.Map)) return null;
  const config = map.get("config");
  const position = map.get("position");
  const notes = map.get("notes");
  const step: Step = {
    id,
    type: asString(map.get("type")),
    name: asString(map.get("name")),
    config: config instanceof Y.Map ? (Object.fromEntries([...config.entries()].map(([k, v]) => [k, yValueToJson(v)])) as Step["config"]) : {},
    position:
      position instanceof Y.Map ? { x: asNumber(position.get("x")), y: asNumber(position.get("y")) } : { x: 0, y: 0 },
  };
  if (notes instanceof Y.XmlFragment) {
    const text = fragmentText(notes);
    if (text) step.notes = text;
  }
  return step;
}

function readEdge(id: string, map: unknown): Edge | null {
  if (!(map instanceof Y.Map)) return null;
  const label = map.get("label");
  const edge: Edge = { id, source: asString(map.get("source")), target: asString(map.get("target")) };
  if (label === "true" || label === "false") edge.label = label;
  return edge;
}

/**
 * Reads the definition a Y.Doc holds. Never throws: a doc edited by a faulty client yields the best
 * definition it can, plus problems naming what was wrong (problems never block editing).
 */
export function definitionFromDoc(doc: Y.Doc): { definition: WorkflowDefinition; problems: Problem[] } {
  const { meta, steps, edges } = docMaps(doc);
  const problems: Problem[] = [];
  const raw = {
    schemaVersion: DEFINITION_SCHEMA_VERSION,
    name: asString(meta.get("name")),
    description: asString(meta.get("description")),
    steps: [] as Step[],
    edges: [] as Edge[],
  };
  for (const id of [...steps.keys()].sort()) {
    const step = readStep(id, steps.get(id));
    if (step) raw.steps.push(step);
    else problems.push({ code: "INVALID_DEFINITION", stepId: id, message: `Step "${id}" is malformed` });
  }
  for (const id of [...edges.keys()].sort()) {
    const edge = readEdge(id, edges.get(id));
    if (edge) raw.edges.push(edge);
    else problems.push({ code: "INVALID_DEFINITION", edgeId: id, message: `Edge "${id}" is malformed` });
  }
  const parsed = WorkflowDefinition.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((part): part is string | number => typeof part !== "symbol");
      problems.push({ code: "INVALID_DEFINITION", path, message: `${path.join(".") || "definition"}: ${issue.message}` });
    }
    return { definition: raw, problems: [...problems, ...validateDefinition(raw)] };
  }
  return { definition: parsed.data, problems: [...problems, ...validateDefinition(parsed.data)] };
}

// ---------- writing ----------

function setIfChanged(map: Y.Map<unknown>, key: string, value: unknown) {
  if (value === undefined) {
    if (map.has(key)) map.delete(key);
    return;
  }
  const current = map.get(key);
  if (JSON.stringify(yValueToJson(current)) !== JSON.stringify(value)) map.set(key, value);
}

function writeNotes(fragment: Y.XmlFragment, text: string | undefined) {
  if ((text ?? "") === fragmentText(fragment)) return;
  fragment.delete(0, fragment.length);
  for (const line of (text ?? "").split("\n")) {
    const paragraph = new Y.XmlElement("paragraph");
    if (line) paragraph.insert(0, [new Y.XmlText(line)]);
    fragment.push([paragraph]);
  }
}

/** Creates the Y.Map of a step, ready to insert into `steps`. */
export function createStepMap(step: Step): StepMap {
  const map = new Y.Map<unknown>();
  map.set("type", step.type);
  map.set("name", step.name);
  map.set("config", new Y.Map(Object.entries(step.config)));
  map.set("position", new Y.Map<unknown>([["x", step.position.x], ["y", step.position.y]]));
  const notes = new Y.XmlFragment();
  map.set("notes", notes);
  if (step.notes) writeNotes(notes, step.notes);
  return map;
}

function writeStep(map: StepMap, step: Step) {
  setIfChanged(map, "type", step.type);
  setIfChanged(map, "name", step.name);
  let config = map.get("config");
  if (!(config instanceof Y.Map)) map.set("config", (config = new Y.Map()));
  const configMap = config as Y.Map<unknown>;
  for (const key of [...configMap.keys()]) if (!(key in step.config)) configMap.delete(key);
  for (const [key, value] of Object.entries(step.config)) setIfChanged(configMap, key, value);
  let position = map.get("position");
  if (!(position instanceof Y.Map)) map.set("position", (position = new Y.Map()));
  setIfChanged(position as Y.Map<unknown>, "x", step.position.x);
  setIfChanged(position as Y.Map<unknown>, "y", step.position.y);
  let notes = map.get("notes");
  if (!(notes instanceof Y.XmlFragment)) map.set("notes", (notes = new Y.XmlFragment()));
  writeNotes(notes as Y.XmlFragment, step.notes);
}

/**
 * Makes the doc hold `definition`, changing only what differs (so concurrent editors keep their
 * unrelated edits). One transaction, tagged with `origin`.
 */
export function applyDefinitionToDoc(doc: Y.Doc, definition: WorkflowDefinition, origin: unknown = null): void {
  const { meta, steps, edges } = docMaps(doc);
  doc.transact(() => {
    setIfChanged(meta, "schemaVersion", definition.schemaVersion);
    setIfChanged(meta, "name", definition.name);
    setIfChanged(meta, "description", definition.description);

    const stepIds = new Set(definition.steps.map((step) => step.id));
    for (const id of [...steps.keys()]) if (!stepIds.has(id)) steps.delete(id);
    for (const step of definition.steps) {
      const existing = steps.get(step.id);
      if (existing instanceof Y.Map) writeStep(existing, step);
      else steps.set(step.id, createStepMap(step));
    }

    const edgeIds = new Set(definition.edges.map((edge) => edge.id));
    for (const id of [...edges.keys()]) if (!edgeIds.has(id)) edges.delete(id);
    for (const edge of definition.edges) {
      let map = edges.get(edge.id);
      if (!(map instanceof Y.Map)) edges.set(edge.id, (map = new Y.Map()));
      setIfChanged(map, "source", edge.source);
      setIfChanged(map, "target", edge.target);
      setIfChanged(map, "label", edge.label);
    }
  }, origin);
}

export function docFromDefinition(definition: WorkflowDefinition): Y.Doc {
  const doc = new Y.Doc();
  applyDefinitionToDoc(doc, definition);
  return doc;
}

/** The whole doc state as one update, for storage. */
export function encodeDocState(doc: Y.Doc): Uint8Array {
  return Y.encodeStateAsUpdate(doc);
}

// ---------- edits the studio makes ----------

/** Removes a step and every edge touching it, in one transaction. */
export function removeStep(doc: Y.Doc, stepId: string, origin: unknown = null): void {
  const { steps, edges } = docMaps(doc);
  doc.transact(() => {
    steps.delete(stepId);
    for (const [id, edge] of [...edges.entries()]) {
      if (edge instanceof Y.Map && (edge.get("source") === stepId || edge.get("target") === stepId)) edges.delete(id);
    }
  }, origin);
}
