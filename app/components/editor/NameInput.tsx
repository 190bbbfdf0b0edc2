import { stepDisplayName } from "@algorythmos/domain";
import type { WebsocketProvider } from "y-websocket";
import type * as Y from "yjs";
import { CollabTextField } from "./CollabTextField";

/**
 * The workflow name, co-typed through `meta.name` (a Y.Text, docs/ydoc-layout.md L1–L8) with the others'
 * carets. Until the first sync the doc may not hold the name yet, so a read-only input shows the loaded one.
 */
export function NameInput({
  doc,
  synced,
  initialName,
  readOnly,
  awareness,
}: {
  doc: Y.Doc | null;
  synced: boolean;
  initialName: string;
  readOnly: boolean;
  awareness: WebsocketProvider["awareness"] | null;
}) {
  return (
    <div className="field name-field">
      <label htmlFor="workflow-name">Workflow name</label>
      {doc && synced ? (
        <CollabTextField doc={doc} field={{ kind: "meta", key: "name" }} awareness={awareness} id="workflow-name" readOnly={readOnly} maxLength={200} placeholder="Untitled workflow" />
      ) : (
        <input id="workflow-name" type="text" defaultValue={initialName} maxLength={200} readOnly aria-busy="true" />
      )}
    </div>
  );
}

/**
 * A step's name, co-typed through its `name` Y.Text. Emptied, it shows what the canvas calls the step
 * ("Untitled HTTP request") as a placeholder and says so below as you type, instead of falling back to the id.
 */
export function StepNameInput({
  doc,
  step,
  typeLabel,
  awareness,
  id,
  disabled,
}: {
  doc: Y.Doc;
  step: { id: string; name: string; type: string };
  typeLabel?: string | undefined;
  awareness: WebsocketProvider["awareness"] | null;
  id: string;
  disabled: boolean;
}) {
  const empty = !step.name.trim();
  const hintId = `${id}-hint`;
  return (
    <>
      <CollabTextField
        doc={doc}
        field={{ kind: "step", stepId: step.id, key: "name" }}
        awareness={awareness}
        id={id}
        readOnly={false}
        disabled={disabled}
        maxLength={200}
        placeholder={stepDisplayName({ name: "", type: step.type }, typeLabel)}
        aria-invalid={empty || undefined}
        aria-describedby={empty ? hintId : undefined}
      />
      {empty ? (
        <p className="field-hint warn" id={hintId} data-testid="step-name-hint">
          Give this step a name: until then it shows as “{stepDisplayName(step, typeLabel)}”.
        </p>
      ) : null}
    </>
  );
}
