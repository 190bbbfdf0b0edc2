import { editTextList, isExpressionField, textListItemIds, type TextListEdit } from "@algorythmos/domain";
import { useId } from "react";
import { LOCAL_ORIGIN } from "~/lib/collab";
import type { CollabBinding } from "~/lib/text-binding";
import { FieldError } from "../Field";
import { CollabTextField } from "./CollabTextField";
import { ExpressionField } from "./ExpressionField";

interface TextListFieldProps {
  collab: CollabBinding;
  /** The config key ("cases"). */
  name: string;
  label: string;
  /** The item fields people type, in order (the registry's textListFields: switch cases `key`, `expression`). */
  fields: readonly string[];
  /** Item field → whether it is shown as a text area. */
  multiline?: readonly string[];
  error: string | undefined;
  readOnly: boolean;
}

// Layout kept here (the shared stylesheet has the fieldset's look: text-map).
// The first field (a case's key) shares the top line with the buttons; the others (its expression) get the full width.
const ROW_STYLE = { display: "grid", gridTemplateColumns: "minmax(0, 1fr) auto", gap: "0.3rem 0.4rem", alignItems: "end", paddingBottom: "0.45rem", marginBottom: "0.45rem", borderBottom: "1px solid var(--border)" } as const;
const cellStyle = (first: boolean) => ({ display: "flex", flexDirection: "column", gap: "0.15rem", minWidth: 0, gridColumn: first ? "1" : "1 / -1", gridRow: first ? "1" : "auto" }) as const;
const LABEL_ROW_STYLE = { display: "flex", justifyContent: "space-between", alignItems: "baseline", gap: "0.5rem" } as const;
const ACTIONS_STYLE = { display: "flex", gap: "0.2rem", gridColumn: "2", gridRow: "1" } as const;

const capitalised = (text: string) => text.replace(/^./, (c) => c.toUpperCase());

/**
 * An ordered list of co-typed items (switch cases, docs/ydoc-layout.md L11): one row per item, each text
 * field bound to its own Y.Text with the others' carets. Rows are keyed by the item's stable id, so a
 * concurrent add, move or remove never moves a caret into another item. Add, move and remove are one
 * transaction each (editTextList), converting a list still in the plain JSON form first.
 */
export function TextListField({ collab, name, label, fields, multiline = [], error, readOnly }: TextListFieldProps) {
  const id = useId();
  const ids = textListItemIds(collab.doc, collab.stepId, name);
  const edit = (change: TextListEdit) => editTextList(collab.doc, collab.stepId, name, change, LOCAL_ORIGIN);
  const item = capitalised(label.replace(/s$/i, ""));
  const hasExpression = fields.some((field) => isExpressionField(collab.stepType, `${name}.${field}`));
  return (
    <fieldset className="field text-map text-list" aria-describedby={error ? `${id}-error` : undefined} data-testid={`text-list-${name}`}>
      <legend className="label">{label}</legend>
      {ids.length === 0 ? <p className="muted small">None yet.</p> : null}
      {ids.map((itemId, index) => (
        <div className="text-list-row" style={ROW_STYLE} key={itemId} data-item-id={itemId}>
          {fields.map((field, fieldIndex) => {
            const inputId = `${id}-${itemId}-${field}`;
            const ref = { kind: "listItem", stepId: collab.stepId, key: name, itemId, field } as const;
            // An item field the registry calls a JSONata expression (a case's expression) gets the expression editor,
            // as a condition's expression does: colours, completion, inline errors, preview.
            if (isExpressionField(collab.stepType, `${name}.${field}`)) {
              return (
                <div className="text-list-cell" style={cellStyle(false)} key={field}>
                  <span style={LABEL_ROW_STYLE}>
                    <label id={`${inputId}-label`} className="small" style={{ whiteSpace: "nowrap" }} onClick={() => document.querySelector<HTMLElement>(`#${CSS.escape(inputId)}-editor .cm-content`)?.focus()}>
                      {item} {index + 1} {field}
                    </label>
                    <span className="muted small" style={{ whiteSpace: "nowrap" }} title="A JSONata expression over input and steps.<key>.output; Ctrl+Space shows suggestions">
                      JSONata · Ctrl+Space
                    </span>
                  </span>
                  <div id={`${inputId}-editor`}>
                    <ExpressionField doc={collab.doc} field={ref} stepId={collab.stepId} awareness={collab.awareness} labelId={`${inputId}-label`} inputId={inputId} readOnly={readOnly} />
                  </div>
                </div>
              );
            }
            return (
              <div className="text-list-cell" style={cellStyle(fieldIndex === 0)} key={field}>
                <label htmlFor={inputId} className="small">
                  {item} {index + 1} {field}
                </label>
                <CollabTextField
                  doc={collab.doc}
                  field={ref}
                  awareness={collab.awareness}
                  id={inputId}
                  readOnly={false}
                  disabled={readOnly}
                  multiline={multiline.includes(field)}
                  rows={2}
                  className="mono"
                />
              </div>
            );
          })}
          {readOnly ? null : (
            <span className="text-list-actions" style={ACTIONS_STYLE}>
              <button type="button" className="small-button" aria-label={`Move ${item.toLowerCase()} ${index + 1} up`} title="Move up" disabled={index === 0} onClick={() => edit({ move: itemId, to: index - 1 })}>
                ↑
              </button>
              <button type="button" className="small-button" aria-label={`Move ${item.toLowerCase()} ${index + 1} down`} title="Move down" disabled={index === ids.length - 1} onClick={() => edit({ move: itemId, to: index + 1 })}>
                ↓
              </button>
              <button type="button" className="small-button" aria-label={`Remove ${item.toLowerCase()} ${index + 1}`} title="Remove" onClick={() => edit({ remove: itemId })}>
                ×
              </button>
            </span>
          )}
        </div>
      ))}
      {readOnly ? null : (
        <button type="button" className="small-button" onClick={() => edit({ add: Object.fromEntries(fields.map((field) => [field, ""])) })}>
          Add {item.toLowerCase()}
        </button>
      )}
      {/* A case's invalid expression is shown live under that case by its editor; this is for the others (no case). */}
      <FieldError inputId={id} message={hasExpression && error?.startsWith("Invalid expression:") ? undefined : error} />
    </fieldset>
  );
}
