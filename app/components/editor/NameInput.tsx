import { docMaps } from "@algorythmos/domain";
import { useEffect, useRef } from "react";
import type * as Y from "yjs";
import { setWorkflowName } from "~/lib/doc-edits";

/** Where the caret should go when `before` becomes `after` under it (keeps it next to the same text). */
function shiftCaret(before: string, after: string, caret: number): number {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
  if (caret <= prefix) return caret;
  return Math.max(prefix, Math.min(after.length, caret + after.length - before.length));
}

/**
 * The workflow name, bound live to `meta.name`. The input is uncontrolled: our keystrokes write to the doc,
 * and only remote changes write back into the input, keeping the caret next to the text it was beside.
 */
export function NameInput({ doc, synced, initialName, readOnly }: { doc: Y.Doc | null; synced: boolean; initialName: string; readOnly: boolean }) {
  const ref = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!doc || !synced) return;
    const { meta } = docMaps(doc);
    const show = () => {
      const input = ref.current;
      const next = typeof meta.get("name") === "string" ? (meta.get("name") as string) : "";
      if (!input || input.value === next) return;
      const focused = document.activeElement === input;
      const start = input.selectionStart ?? 0;
      const end = input.selectionEnd ?? 0;
      const before = input.value;
      input.value = next;
      if (focused) input.setSelectionRange(shiftCaret(before, next, start), shiftCaret(before, next, end));
    };
    show();
    meta.observe(show);
    return () => meta.unobserve(show);
  }, [doc, synced]);

  return (
    <div className="field name-field">
      <label htmlFor="workflow-name">Workflow name</label>
      <input
        ref={ref}
        id="workflow-name"
        type="text"
        defaultValue={initialName}
        maxLength={200}
        // Until the first sync the doc may not hold the name yet: typing then would be overwritten.
        readOnly={readOnly || !doc || !synced}
        aria-busy={!synced}
        onChange={(e) => doc && synced && !readOnly && setWorkflowName(doc, e.currentTarget.value)}
      />
    </div>
  );
}
