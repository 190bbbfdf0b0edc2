import { editTextMap, textMapNames } from "@algorythmos/domain";
import { useId, useState } from "react";
import { LOCAL_ORIGIN } from "~/lib/collab";
import type { CollabBinding } from "~/lib/text-binding";
import { FieldError } from "../Field";
import { CollabTextField } from "./CollabTextField";

interface TextMapFieldProps {
  collab: CollabBinding;
  name: string;
  label: string;
  error: string | undefined;
  readOnly: boolean;
}

/**
 * A name → text config field (http.request headers, docs/ydoc-layout.md L6): one row per name, each value
 * co-typed through its own Y.Text with the others' carets; names are renamed on Enter or when leaving the box.
 */
export function TextMapField({ collab, name, label, error, readOnly }: TextMapFieldProps) {
  const id = useId();
  const [message, setMessage] = useState<string | null>(null);
  const names = textMapNames(collab.doc, collab.stepId, name);
  const edit = (change: Parameters<typeof editTextMap>[3]) => editTextMap(collab.doc, collab.stepId, name, change, LOCAL_ORIGIN);
  const rename = (from: string, input: HTMLInputElement) => {
    const to = input.value.trim();
    if (to === from) return;
    if (!to || !edit({ rename: from, to })) {
      setMessage(to ? `“${to}” is already there` : "A name is required");
      input.value = from;
      return;
    }
    setMessage(null);
  };
  const add = () => {
    let next = "x-header";
    for (let n = 2; names.includes(next); n++) next = `x-header-${n}`;
    edit({ add: next });
  };
  const shown = message ?? error;
  return (
    <fieldset className="field text-map" aria-describedby={shown ? `${id}-error` : undefined} data-testid={`text-map-${name}`}>
      <legend className="label">{label}</legend>
      {names.length === 0 ? <p className="muted small">None yet.</p> : null}
      {names.map((entry, index) => (
        <div className="text-map-row" key={entry}>
          <label htmlFor={`${id}-${index}-name`} className="visually-hidden">
            {label} {index + 1} name
          </label>
          <input
            id={`${id}-${index}-name`}
            type="text"
            className="text-map-name mono"
            defaultValue={entry}
            disabled={readOnly}
            spellCheck={false}
            onBlur={(e) => rename(entry, e.currentTarget)}
            onKeyDown={(e) => e.key === "Enter" && (e.preventDefault(), rename(entry, e.currentTarget))}
          />
          <label htmlFor={`${id}-${index}-value`} className="visually-hidden">
            {entry} value
          </label>
          <CollabTextField
            doc={collab.doc}
            field={{ kind: "config", stepId: collab.stepId, key: name, entry }}
            awareness={collab.awareness}
            id={`${id}-${index}-value`}
            readOnly={false}
            disabled={readOnly}
          />
          {readOnly ? null : (
            <button type="button" className="small-button" aria-label={`Remove ${entry}`} title={`Remove ${entry}`} onClick={() => edit({ remove: entry })}>
              ×
            </button>
          )}
        </div>
      ))}
      {readOnly ? null : (
        <button type="button" className="small-button" onClick={add}>
          Add {label.toLowerCase().replace(/s$/, "")}
        </button>
      )}
      <FieldError inputId={id} message={shown} />
    </fieldset>
  );
}
