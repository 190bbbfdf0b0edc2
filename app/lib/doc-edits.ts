/**
 * The edits the studio makes to a workflow's Y.Doc. Each is one transaction tagged LOCAL_ORIGIN, so the
 * per-user undo manager sees it and remote peers receive it as one update. Text people type (names,
 * expressions, URLs, …) is co-typed instead, through ~/lib/text-binding.ts.
 */
import { createStepMap, docMaps, newId, removeStep } from "@algorythmos/domain";
import * as Y from "yjs";
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
  doc.transact(() => docMaps(doc).steps.set(id, createStepMap({ id, ...step })), LOCAL_ORIGIN);
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

export function connectSteps(doc: Y.Doc, source: string, target: string, label?: "true" | "false") {
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
