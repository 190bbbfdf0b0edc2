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
        <CollabTextField doc={doc} field={{ kind: "meta", key: "name" }} awareness={awareness} id="workflow-name" readOnly={readOnly} maxLength={200} />
      ) : (
        <input id="workflow-name" type="text" defaultValue={initialName} maxLength={200} readOnly aria-busy="true" />
      )}
    </div>
  );
}
