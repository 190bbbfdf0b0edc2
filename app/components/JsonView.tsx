import { useState } from "react";

/**
 * A collapsible JSON tree. Objects and arrays are <details> elements, so they open and close with the
 * keyboard (Tab to the summary, Enter or Space) and screen readers announce them as expandable.
 */
export function JsonView({ value, label, openDepth = 1 }: { value: unknown; label: string; openDepth?: number }) {
  const [copied, setCopied] = useState(false);
  const text = value === undefined ? "" : JSON.stringify(value, null, 2);
  return (
    <div className="json-view" role="group" aria-label={label}>
      <div className="json-view-bar">
        <span className="label">{label}</span>
        {value === undefined || value === null ? null : (
          <button
            type="button"
            className="small-button"
            onClick={() => {
              void navigator.clipboard?.writeText(text).then(
                () => setCopied(true),
                () => setCopied(false),
              );
            }}
            aria-label={`Copy ${label} as JSON`}
          >
            {copied ? "Copied" : "Copy"}
          </button>
        )}
      </div>
      {value === undefined || value === null ? (
        <p className="muted small json-empty">None</p>
      ) : (
        <div className="json-tree mono">
          <JsonNode value={value} depth={0} openDepth={openDepth} name={null} />
        </div>
      )}
    </div>
  );
}

function JsonNode({ name, value, depth, openDepth }: { name: string | null; value: unknown; depth: number; openDepth: number }) {
  const key = name === null ? null : <span className="json-key">{name}: </span>;
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
    if (entries.length === 0) {
      return (
        <div className="json-leaf">
          {key}
          <span className="json-punct">{Array.isArray(value) ? "[]" : "{}"}</span>
        </div>
      );
    }
    return (
      <details className="json-branch" open={depth < openDepth}>
        <summary>
          {key}
          <span className="json-punct">{summary}</span>
        </summary>
        <div className="json-children">
          {entries.map(([k, v]) => (
            <JsonNode key={k} name={k} value={v} depth={depth + 1} openDepth={openDepth} />
          ))}
        </div>
      </details>
    );
  }
  const kind = value === null ? "null" : typeof value;
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  return (
    <div className="json-leaf">
      {key}
      <span className={`json-${kind}`}>{shown}</span>
    </div>
  );
}
