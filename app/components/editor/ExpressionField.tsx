import { definitionFromDoc, expressionSyntaxError, readTextField, type TextFieldRef } from "@algorythmos/domain";
import { useParams } from "@remix-run/react";
import jsonata from "jsonata";
import { useCallback, useEffect, useRef, useState } from "react";
import type { WebsocketProvider } from "y-websocket";
import type * as Y from "yjs";
import { expressionScope, formatPreview, type ExpressionScope, type LastRunValues } from "~/lib/expression-scope";
import type { LastRunData } from "~/routes/workflows.$id_.last-run";
import type { CodeEditorHandle } from "./code-editor.client";

interface ExpressionFieldProps {
  doc: Y.Doc;
  field: TextFieldRef;
  /** The step whose expression this is: its earlier steps are offered, and its loop's `item`. */
  stepId: string;
  awareness: WebsocketProvider["awareness"] | null;
  /** The field's <label> id (the editor is labelled by it) and the input id its messages hang off. */
  labelId: string;
  inputId: string;
  readOnly: boolean;
  /** The validation message for the field (a missing expression, say); a syntax error is shown live instead. */
  error?: string | undefined;
}

/** How long the preview may evaluate in the browser (JSONata checks between steps). */
const PREVIEW_TIMEOUT_MS = 200;
/** The last run is fetched again on focus at most this often. */
const LAST_RUN_REFRESH_MS = 3_000;

/** The newest run of a workflow as the expression editors of one page share it (one request for all of them). */
const lastRuns = new Map<string, { at: number; promise: Promise<LastRunData | null> }>();
function fetchLastRun(workflowId: string, force = false): Promise<LastRunData | null> {
  const cached = lastRuns.get(workflowId);
  if (cached && (!force || Date.now() - cached.at < LAST_RUN_REFRESH_MS)) return cached.promise;
  const promise = fetch(`/workflows/${encodeURIComponent(workflowId)}/last-run`, { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? (response.json() as Promise<LastRunData>) : null))
    .catch(() => null);
  lastRuns.set(workflowId, { at: Date.now(), promise });
  return promise;
}

type Preview = { state: "none"; reason: string } | { state: "value"; text: string } | { state: "error"; text: string };

/** Evaluates the expression against the last run's values, time-boxed; errors come back as text. */
async function evaluatePreview(text: string, scope: ExpressionScope): Promise<Preview> {
  if (!text.trim()) return { state: "none", reason: "Type an expression to see its value." };
  if (!scope.previewContext) return { state: "none", reason: "Run the workflow once to preview this expression against real data. Ctrl+Space suggests fields." };
  if (expressionSyntaxError(text)) return { state: "none", reason: "Fix the expression to see its value." };
  try {
    const compiled = jsonata(text, { timeout: PREVIEW_TIMEOUT_MS, stack: 200 } as never);
    const value = await compiled.evaluate(scope.previewContext);
    return { state: "value", text: formatPreview(value) };
  } catch (error) {
    const { message, code } = (error ?? {}) as { message?: string; code?: string };
    if (code === "D1012") return { state: "error", text: `Stopped: the preview ran longer than ${PREVIEW_TIMEOUT_MS} ms` };
    return { state: "error", text: message || String(error) };
  }
}

/**
 * A JSONata expression field (the registry's `expressionFields`): CodeMirror on the field's Y.Text with the others'
 * carets, JSONata colours, inline syntax errors as you type (the worker's parser), completion of `input.…` and
 * earlier steps' `steps.<key>.output.…` (output schemas, pinned data, the last run's values), and a live preview
 * of the value against the last run. CodeMirror is loaded on first use; until then the text shows read-only.
 */
export function ExpressionField({ doc, field, stepId, awareness, labelId, inputId, readOnly, error }: ExpressionFieldProps) {
  const workflowId = useParams().id ?? "";
  const parent = useRef<HTMLDivElement>(null);
  const editor = useRef<CodeEditorHandle | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [failed, setFailed] = useState(false);
  const [text, setText] = useState(() => readTextField(doc, field).value ?? "");
  const [lastRun, setLastRun] = useState<LastRunData | null>(null);
  const [preview, setPreview] = useState<Preview>({ state: "none", reason: "" });
  const fieldKey = JSON.stringify(field);
  const lastRunRef = useRef<LastRunValues | null>(null);
  lastRunRef.current = lastRun && lastRun.runId ? { input: lastRun.input, outputs: lastRun.outputs } : null;

  const scope = useCallback(() => expressionScope(definitionFromDoc(doc).definition, stepId, lastRunRef.current), [doc, stepId]);

  const refresh = useCallback(
    (force: boolean) => {
      if (!workflowId) return;
      void fetchLastRun(workflowId, force).then((data) => data && setLastRun(data));
    },
    [workflowId],
  );
  useEffect(() => refresh(false), [refresh]);

  useEffect(() => {
    let disposed = false;
    import("./expression-editor.client")
      .then(({ mountExpressionEditor }) => {
        if (disposed || !parent.current) return;
        editor.current = mountExpressionEditor({
          parent: parent.current,
          doc,
          field,
          awareness,
          readOnly,
          labelId,
          describedBy: `${inputId}-error`,
          scope,
          onText: setText,
        });
        editor.current.view.contentDOM.addEventListener("focus", () => {
          setFocused(true);
          refresh(true);
        });
        editor.current.view.contentDOM.addEventListener("blur", () => setFocused(false));
        setText(editor.current.view.state.doc.toString());
        setLoaded(true);
      })
      .catch(() => !disposed && setFailed(true));
    return () => {
      disposed = true;
      editor.current?.destroy();
      editor.current = null;
      setLoaded(false);
    };
    // The editor is made once per doc, field and awareness; read-only and messages are reconfigured below.
  }, [doc, fieldKey, awareness]); // eslint-disable-line react-hooks/exhaustive-deps

  // The message waits for a pause in typing (a half-typed `steps.` is not worth a red line); the underline is live.
  const [checked, setChecked] = useState(text);
  useEffect(() => {
    const timer = setTimeout(() => setChecked(text), 300);
    return () => clearTimeout(timer);
  }, [text]);
  // A path being typed (`steps.fetch_user.`) while the person is in the field is not an error yet: the
  // suggestions are open there; the underline still marks it, and leaving the field shows the message.
  const [focused, setFocused] = useState(false);
  const typingPath = focused && /\.\s*$/.test(checked);
  const syntax = checked.trim() && !typingPath ? expressionSyntaxError(checked) : null;
  // The validation problem's own syntax message (the same parser) follows the document a moment later: this field
  // shows the live one instead, and the other messages (a missing expression) as they come.
  const validation = error?.startsWith("Invalid expression:") ? undefined : error;
  const message = syntax ? `Invalid expression: ${syntax.message}${syntax.position === null ? "" : ` (at ${syntax.position})`}` : validation;
  useEffect(() => editor.current?.setReadOnly(readOnly), [readOnly, loaded]);
  useEffect(() => editor.current?.setDescription(message ? `${inputId}-error` : undefined, !!message), [message, inputId, loaded]);

  // The preview follows the text and the last run, a moment after typing stops.
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      void evaluatePreview(text, scope()).then((result) => current && setPreview(result));
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [text, lastRun, scope]);

  return (
    <div className="code-field expression-field" data-testid="expression-field" data-loaded={loaded || undefined}>
      <div ref={parent} className="code-field-editor" />
      {loaded ? null : (
        <pre className="code-field-placeholder mono" aria-labelledby={labelId}>
          {failed ? "The expression editor could not be loaded; reload the page." : text}
        </pre>
      )}
      {message ? (
        <p className="field-error" id={`${inputId}-error`} data-testid="expression-error" role="status">
          {message}
        </p>
      ) : null}
      <div className="expression-preview" data-testid="expression-preview" data-state={preview.state} style={PREVIEW_STYLE} aria-live="polite">
        <span className="muted small" style={{ display: "block", marginBottom: 2 }} title={lastRun?.runId ?? undefined}>
          {lastRun?.runId ? "Preview against the last run" : "Preview"}
        </span>
        {preview.state === "none" ? (
          <span className="muted small">{preview.reason}</span>
        ) : (
          <pre className="mono" style={{ margin: 0, whiteSpace: "pre-wrap", wordBreak: "break-word", maxHeight: "10rem", overflow: "auto", color: preview.state === "error" ? "var(--danger, #b42318)" : undefined }}>
            {preview.text}
          </pre>
        )}
      </div>
    </div>
  );
}

const PREVIEW_STYLE = {
  marginTop: 6,
  padding: "6px 8px",
  border: "1px dashed var(--border, #c9ced6)",
  borderRadius: 6,
  fontSize: 12.5,
  background: "var(--surface-muted, rgba(127,127,127,0.06))",
} as const;
