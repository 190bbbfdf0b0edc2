import { codeFieldLanguage, editTextField, isExpressionField, isTextRecord, readTextField, textListFields, typedTextKind } from "@algorythmos/domain";
import { Fragment, useEffect, useId, useRef, useState, type ReactNode } from "react";
import type { JsonSchema } from "~/lib/operations";
import type { CollabBinding } from "~/lib/text-binding";
import { FieldError } from "../Field";
import { CodeField } from "./CodeField";
import { CollabTextField } from "./CollabTextField";
import { ExpressionField } from "./ExpressionField";
import { TextListField } from "./TextListField";
import { TextMapField } from "./TextMapField";

const LABELS: Record<string, string> = {
  url: "URL",
  timeoutMs: "Timeout (ms)",
  durationMs: "Duration (ms)",
  memoryLimitMb: "Memory limit (MB)",
  credentialId: "Credential",
  jsonMode: "JSON mode",
  textBody: "Text body",
  htmlBody: "HTML body",
  cron: "Cron expression",
};

const labelFor = (key: string) =>
  LABELS[key] ?? key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase()).replace(/\b(\w+) (\w)/g, (_, a, b) => `${a} ${b.toLowerCase()}`);

const typeOf = (schema: JsonSchema) => (Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type);

interface ConfigFieldsProps {
  schema: JsonSchema;
  config: Record<string, unknown>;
  /** Field → first problem message for it (from domain validation). */
  errors: Record<string, string>;
  multiline: readonly string[];
  readOnly: boolean;
  /** The workspace's credentials usable by this step (for `credentialId`); undefined when unknown. */
  credentials?: { id: string; name: string }[] | undefined;
  onChange(key: string, value: unknown): void;
  /** A field rendered by the caller instead of the generated control (null: the generated one). */
  renderField?: ((key: string, field: GeneratedField) => ReactNode | null) | undefined;
  /** The step's doc: the fields its type's registry entry calls text (`typedText`) are co-typed through it. */
  collab?: CollabBinding | undefined;
}


/** What the generated form knows about a field, for a caller that renders it itself. */
export interface GeneratedField {
  label: string;
  schema: JsonSchema;
  value: unknown;
  required: boolean;
  error: string | undefined;
}

/**
 * A form generated from a step type's JSON Schema: enums as selects, strings, numbers and booleans as
 * inputs, anything structured as a JSON text area. Values write straight into the step's config Y.Map.
 */
export function ConfigFields({ schema, config, errors, multiline, readOnly, credentials, onChange, renderField, collab }: ConfigFieldsProps) {
  const entries = Object.entries(schema.properties ?? {});
  if (entries.length === 0) return <p className="muted">This step has nothing to configure.</p>;
  const required = new Set(schema.required ?? []);
  return (
    <>
      {entries.map(([key, property]) => {
        const custom = renderField?.(key, { label: labelFor(key), schema: property, value: config[key] ?? property.default, required: required.has(key), error: errors[key] });
        if (custom) return <Fragment key={key}>{custom}</Fragment>;
        return (
          <ConfigField
            key={key}
            name={key}
            schema={property}
            value={config[key] ?? property.default}
            required={required.has(key)}
            multiline={multiline.includes(key)}
            error={errors[key]}
            readOnly={readOnly}
            credentials={key === "credentialId" ? credentials : undefined}
            collab={collab}
            onChange={(value) => onChange(key, value)}
          />
        );
      })}
    </>
  );
}

interface ConfigFieldProps {
  name: string;
  schema: JsonSchema;
  value: unknown;
  required: boolean;
  multiline: boolean;
  error: string | undefined;
  readOnly: boolean;
  credentials?: { id: string; name: string }[] | undefined;
  collab?: CollabBinding | undefined;
  onChange(value: unknown): void;
}

function ConfigField({ name, schema, value, required, multiline, error, readOnly, credentials, collab, onChange }: ConfigFieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  // "required" sits outside the <label> so the field's accessible name stays exactly e.g. "URL".
  const label = labelFor(name);
  const requiredMark = required ? <span className="muted small"> required</span> : null;
  const common = {
    id,
    disabled: readOnly,
    "aria-required": required || undefined,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? errorId : undefined,
  } as const;
  const type = typeOf(schema);
  let control;

  if (credentials) {
    // A credential is chosen by name; an id that is not in the list (deleted, or typed by hand) stays visible.
    const current = typeof value === "string" ? value : "";
    const known = credentials.some((c) => c.id === current);
    control = (
      <select {...common} value={current} onChange={(e) => onChange(e.target.value)}>
        <option value="">{credentials.length ? "Choose a credential…" : "No credentials of this type yet"}</option>
        {current && !known ? <option value={current}>Unknown credential ({current})</option> : null}
        {credentials.map((credential) => (
          <option key={credential.id} value={credential.id}>
            {credential.name}
          </option>
        ))}
      </select>
    );
  } else if (schema.enum) {
    control = (
      <select {...common} value={String(value ?? "")} onChange={(e) => onChange(e.target.value || undefined)}>
        {required && value !== undefined ? null : <option value="">—</option>}
        {schema.enum.map((option) => (
          <option key={String(option)} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else if (type === "boolean") {
    return (
      <div className="field checkbox">
        <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
        <label htmlFor={id}>{labelFor(name)}</label>
      </div>
    );
  } else if (type === "integer" || type === "number") {
    control = (
      <input
        {...common}
        type="number"
        step={type === "integer" ? 1 : "any"}
        min={schema.minimum}
        max={schema.maximum}
        value={typeof value === "number" ? value : ""}
        onChange={(e) => {
          const text = e.target.value;
          if (text === "") onChange(undefined);
          else if (Number.isFinite(e.target.valueAsNumber)) onChange(e.target.valueAsNumber);
        }}
      />
    );
  } else if (type === "string" && collab && codeFieldLanguage(collab.stepType, name)) {
    // Source code: a co-typed code editor (CodeMirror, loaded on first use).
    control = (
      <CodeField doc={collab.doc} field={{ kind: "config", stepId: collab.stepId, key: name }} awareness={collab.awareness} labelId={`${id}-label`} readOnly={readOnly} describedBy={common["aria-describedby"]} invalid={!!error} />
    );
  } else if (type === "string" && collab && typedTextKind(collab.stepType, name) === "text" && isExpressionField(collab.stepType, name)) {
    // A JSONata expression (the registry's expressionFields; templates with {{ }} stay plain text fields below): the
    // expression editor, which shows its own message (a syntax error live, as you type, else the validation one).
    return (
      <div className="field">
        <div className="label-row">
          <label id={`${id}-label`} onClick={() => document.querySelector<HTMLElement>(`[data-field="step:${collab.stepId}.config.${name}"]`)?.focus()}>
            {label}
          </label>
          {requiredMark}
          <span className="muted small" title="A JSONata expression over input and steps.<key>.output; Ctrl+Space shows suggestions">
            JSONata · Ctrl+Space
          </span>
        </div>
        <ExpressionField doc={collab.doc} field={{ kind: "config", stepId: collab.stepId, key: name }} stepId={collab.stepId} awareness={collab.awareness} labelId={`${id}-label`} inputId={id} readOnly={readOnly} error={error} />
      </div>
    );
  } else if (type === "string" && collab && typedTextKind(collab.stepType, name) === "text") {
    // Co-typed: keystrokes splice the field's Y.Text; required strings stay "" when emptied, so validation
    // names the missing field, optional ones are removed.
    control = (
      <CollabTextField
        doc={collab.doc}
        field={{ kind: "config", stepId: collab.stepId, key: name }}
        awareness={collab.awareness}
        id={id}
        readOnly={false}
        disabled={readOnly}
        multiline={multiline}
        emptyRemoves={!required}
        aria-required={common["aria-required"]}
        aria-invalid={common["aria-invalid"]}
        aria-describedby={common["aria-describedby"]}
      />
    );
  } else if (type === "string") {
    const text = typeof value === "string" ? value : "";
    // Required strings stay "" when emptied, so validation names the missing field.
    const write = (next: string) => onChange(next === "" && !required ? undefined : next);
    control = multiline ? (
      <textarea {...common} rows={4} value={text} onChange={(e) => write(e.target.value)} />
    ) : (
      <input {...common} type="text" value={text} onChange={(e) => write(e.target.value)} />
    );
  } else if (type === undefined && collab && typedTextKind(collab.stepType, name) === "text") {
    // "Any JSON, or text" that people type (an HTTP body): co-typed while it is text, a JSON value on request.
    return <TextOrJsonField id={id} label={label} name={name} value={value} error={error} readOnly={readOnly} collab={collab} onChange={onChange} />;
  } else if (collab && typedTextKind(collab.stepType, name) === "textMap" && (value === undefined || isTextRecord(value))) {
    // Name → text (headers): one co-typed value per name.
    return <TextMapField collab={collab} name={name} label={label} error={error} readOnly={readOnly} />;
  } else if (collab && typedTextKind(collab.stepType, name) === "textList" && (value === undefined || Array.isArray(value))) {
    // An ordered list of co-typed items (switch cases, L11): one row per item, each text field its own Y.Text.
    return <TextListField collab={collab} name={name} label={label} fields={textListFields(collab.stepType, name)} multiline={["expression"]} error={error} readOnly={readOnly} />;
  } else {
    // Objects, arrays and "any JSON" (e.g. an HTTP body, which may also be plain text).
    const acceptsText = type === undefined;
    return (
      <JsonField
        id={id}
        label={label}
        hint={acceptsText ? "JSON, or plain text" : "JSON"}
        value={value}
        acceptsText={acceptsText}
        error={error}
        readOnly={readOnly}
        onChange={onChange}
      />
    );
  }

  return (
    <div className="field">
      <div className="label-row">
        {/* The id labels a control that is no form element (the code editor: aria-labelledby). */}
        <label htmlFor={id} id={`${id}-label`}>
          {label}
        </label>
        {requiredMark}
      </div>
      {control}
      <FieldError inputId={id} message={error} />
    </div>
  );
}

interface TextOrJsonFieldProps {
  id: string;
  label: string;
  name: string;
  value: unknown;
  error: string | undefined;
  readOnly: boolean;
  collab: CollabBinding;
  onChange(value: unknown): void;
}

/**
 * A value that is sent as typed text or as JSON (`http.request`'s body). As text it is a co-typed Y.Text, so two
 * people typing in it merge character by character; as JSON it is one JSON value (objects keep rendering
 * `{{…}}` in each string separately, so an input cannot break the JSON). Which one is the person's choice, never
 * a guess made while they type: typing never switches the box.
 */
function TextOrJsonField({ id, label, name, value, error, readOnly, collab, onChange }: TextOrJsonFieldProps) {
  const [switchError, setSwitchError] = useState<string | null>(null);
  const ref = { kind: "config", stepId: collab.stepId, key: name } as const;
  const asJson = value !== undefined && typeof value !== "string";
  const toText = () => {
    setSwitchError(null);
    editTextField(collab.doc, ref, JSON.stringify(value, null, 2));
  };
  const toJson = () => {
    const text = readTextField(collab.doc, ref).value ?? "";
    try {
      onChange(text.trim() === "" ? {} : JSON.parse(text));
      setSwitchError(null);
    } catch {
      setSwitchError("This text is not valid JSON: fix it first, or keep sending it as text");
    }
  };
  const message = switchError ?? error;
  const errorId = `${id}-error`;
  const switcher = (
    <span className="send-as" role="group" aria-label={`Send ${label.toLowerCase()} as`}>
      <button type="button" className={asJson ? "" : "active"} aria-pressed={!asJson} disabled={readOnly || !asJson} onClick={toText}>
        Text
      </button>
      <button type="button" className={asJson ? "active" : ""} aria-pressed={asJson} disabled={readOnly || asJson} onClick={toJson}>
        JSON
      </button>
    </span>
  );
  if (asJson) return <JsonField id={id} label={label} hint={switcher} value={value} acceptsText={false} error={error ?? switchError ?? undefined} readOnly={readOnly} onChange={onChange} />;
  return (
    <div className="field">
      <div className="label-row">
        <label htmlFor={id}>{label}</label>
        {switcher}
      </div>
      <CollabTextField
        doc={collab.doc}
        field={ref}
        awareness={collab.awareness}
        id={id}
        readOnly={false}
        disabled={readOnly}
        multiline
        className="mono"
        emptyRemoves
        aria-invalid={message ? true : undefined}
        aria-describedby={message ? errorId : undefined}
      />
      <FieldError inputId={id} message={message} />
    </div>
  );
}

function formatJson(value: unknown, acceptsText: boolean): string {
  if (value === undefined) return "";
  if (acceptsText && typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

interface JsonFieldProps {
  id: string;
  label: string;
  hint: ReactNode;
  value: unknown;
  acceptsText: boolean;
  error: string | undefined;
  readOnly: boolean;
  onChange(value: unknown): void;
}

/** A JSON text area: keeps the user's draft while they type, writes only values that parse. */
function JsonField({ id, label, hint, value, acceptsText, error, readOnly, onChange }: JsonFieldProps) {
  const [draft, setDraft] = useState(() => formatJson(value, acceptsText));
  const [parseError, setParseError] = useState<string | null>(null);
  const focused = useRef(false);
  const serialised = JSON.stringify(value ?? null);

  // A remote change replaces the text, unless this user is in the middle of editing it.
  useEffect(() => {
    if (focused.current) return;
    setDraft(formatJson(value, acceptsText));
    setParseError(null);
  }, [serialised]); // eslint-disable-line react-hooks/exhaustive-deps

  const message = parseError ?? error;
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <div className="label-row">
        <label htmlFor={id}>{label}</label>
        <span className="muted small">{hint}</span>
      </div>
      <textarea
        id={id}
        rows={4}
        className="mono"
        value={draft}
        disabled={readOnly}
        aria-invalid={message ? true : undefined}
        aria-describedby={message ? errorId : undefined}
        onFocus={() => (focused.current = true)}
        onBlur={() => (focused.current = false)}
        onChange={(e) => {
          const text = e.target.value;
          setDraft(text);
          if (text.trim() === "") {
            setParseError(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(text));
            setParseError(null);
          } catch {
            if (acceptsText) {
              onChange(text);
              setParseError(null);
            } else setParseError("Enter valid JSON");
          }
        }}
      />
      <FieldError inputId={id} message={message} />
    </div>
  );
}

