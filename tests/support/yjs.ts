import type * as Y from "yjs";

/** Collects the binary updates a doc emits while `fn` runs. */
export function updatesDuring(doc: Y.Doc, fn: () => void): Uint8Array[] {
  const updates: Uint8Array[] = [];
  const listener = (update: Uint8Array) => updates.push(update);
  doc.on("update", listener);
  try {
    fn();
  } finally {
    doc.off("update", listener);
  }
  return updates;
}
