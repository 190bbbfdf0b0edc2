import { STEP_PALETTE_GROUPS, stepUiHints, type StepIcon as StepIconName } from "@algorythmos/domain";
import { useEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import type { StepTypeInfo } from "~/lib/operations";

/** The drag payload of a step type dragged from the library onto the canvas (its type name). */
export const STEP_TYPE_DRAG = "application/x-algorythmos-step-type";

/** Icon strokes on a 24×24 grid (drawn in the style of Lucide, 2 px round strokes), one per registry icon name. */
const ICON_PATHS: Record<StepIconName, string[]> = {
  play: ["M7 4.5v15l12-7.5z"],
  webhook: ["M9 17a4 4 0 1 1-4-4", "M12 7a4 4 0 1 1 4 5.5", "M15 17H8.5", "M12 7 8.5 13", "M16 12.5l3 5"],
  clock: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18", "M12 7v5l3 2"],
  globe: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18", "M3 12h18", "M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9S9.5 5.7 12 3"],
  sparkles: ["M12 3l1.8 5.2L19 10l-5.2 1.8L12 17l-1.8-5.2L5 10l5.2-1.8z", "M19 15l.8 2.2L22 18l-2.2.8L19 21l-.8-2.2L16 18l2.2-.8z"],
  mail: ["M3 6h18v12H3z", "M3 7l9 6 9-6"],
  braces: ["M8 3H7a2 2 0 0 0-2 2v4a2 2 0 0 1-2 2 2 2 0 0 1 2 2v4a2 2 0 0 0 2 2h1", "M16 3h1a2 2 0 0 1 2 2v4a2 2 0 0 0 2 2 2 2 0 0 0-2 2v4a2 2 0 0 1-2 2h-1"],
  branch: ["M6 3v12", "M18 9a3 3 0 1 0 0-6a3 3 0 0 0 0 6", "M6 21a3 3 0 1 0 0-6a3 3 0 0 0 0 6", "M18 9a9 9 0 0 1-9 9"],
  hourglass: ["M6 3h12", "M6 21h12", "M7 3c0 5 10 5 10 9s-10 4-10 9", "M17 3c0 5-10 5-10 9s10 4 10 9"],
  code: ["M8 7l-5 5 5 5", "M16 7l5 5-5 5", "M14 4l-4 16"],
  workflow: ["M3 3h7v7H3z", "M14 14h7v7h-7z", "M6.5 10v4a3 3 0 0 0 3 3H14"],
  "check-circle": ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18", "M8 12.5l2.5 2.5L16 9.5"],
  bot: ["M5 8h14v11H5z", "M12 4v4", "M9 13v1", "M15 13v1", "M2 13h3", "M19 13h3"],
  repeat: ["M17 2l4 4-4 4", "M3 11V9a3 3 0 0 1 3-3h15", "M7 22l-4-4 4-4", "M21 13v2a3 3 0 0 1-3 3H3"],
  switch: ["M4 12h6", "M10 12c3 0 3-6 6-6h4", "M10 12h10", "M10 12c3 0 3 6 6 6h4"],
};

export function StepIcon({ icon, size = 18 }: { icon: StepIconName; size?: number }) {
  return (
    <svg className="step-icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      {ICON_PATHS[icon].map((d) => (
        <path key={d} d={d} />
      ))}
    </svg>
  );
}

/** How well a step type matches a search: every word must appear somewhere; a label that starts with the query ranks first. */
function matchScore(type: StepTypeInfo, query: string): number | null {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return 0;
  const hints = stepUiHints(type.type);
  const label = type.label.toLowerCase();
  const haystack = [type.label, type.description, type.type, hints.group, ...hints.keywords].join(" ").toLowerCase();
  if (!words.every((word) => haystack.includes(word))) return null;
  const whole = words.join(" ");
  return label.startsWith(whole) ? 0 : label.includes(whole) ? 1 : hints.keywords.some((k) => k.startsWith(whole)) ? 2 : 3;
}

interface StepLibraryProps {
  stepTypes: StepTypeInfo[];
  disabled: boolean;
  /** Adds a step of this type beside the selection (or at the centre of the view). */
  onAdd(type: StepTypeInfo): void;
}

/**
 * The step library: every step type in its palette group, with its icon and description, searchable
 * (label, description and the registry's keywords). Click (or Enter) adds beside the selection; dragging
 * onto the canvas drops it there, onto an edge inserts it in between. `/` focuses the search.
 */
export function StepLibrary({ stepTypes, disabled, onAdd }: StepLibraryProps) {
  const [query, setQuery] = useState("");
  const search = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLDivElement>(null);

  const groups = useMemo(() => {
    const scored = stepTypes
      .map((type) => ({ type, score: matchScore(type, query) }))
      .filter((entry): entry is { type: StepTypeInfo; score: number } => entry.score !== null);
    return STEP_PALETTE_GROUPS.map((group) => ({
      group,
      types: scored
        .filter(({ type }) => stepUiHints(type.type).group === group)
        .sort((a, b) => a.score - b.score)
        .map(({ type }) => type),
    })).filter((g) => g.types.length);
  }, [stepTypes, query]);
  const matches = groups.flatMap((g) => g.types);

  // `/` anywhere outside a text field jumps to the search, as in most editors.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, [contenteditable='true'], .cm-editor, [role='dialog']")) return;
      event.preventDefault();
      search.current?.focus();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter" && matches[0] && !disabled) {
      event.preventDefault();
      onAdd(matches[0]);
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      list.current?.querySelector<HTMLButtonElement>("button.step-library-item")?.focus();
    } else if (event.key === "Escape") setQuery("");
  };
  // Up and down move between the items; Up from the first goes back to the search.
  const onListKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const items = [...(list.current?.querySelectorAll<HTMLButtonElement>("button.step-library-item") ?? [])];
    const index = items.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    event.preventDefault();
    const next = index + (event.key === "ArrowDown" ? 1 : -1);
    if (next < 0) search.current?.focus();
    else items[Math.min(next, items.length - 1)]?.focus();
  };
  const onDragStart = (event: DragEvent<HTMLButtonElement>, type: StepTypeInfo) => {
    event.dataTransfer.setData(STEP_TYPE_DRAG, type.type);
    event.dataTransfer.effectAllowed = "copy";
  };

  return (
    <aside className="palette step-library" aria-label="Add a step">
      <div className="step-library-head">
        <h2>Add a step</h2>
        <div className="step-library-search">
          <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" aria-hidden="true">
            <circle cx="11" cy="11" r="7" />
            <path d="M20 20l-3.5-3.5" />
          </svg>
          <input
            ref={search}
            id="step-search"
            type="search"
            aria-label="Search steps"
            placeholder="Search steps"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={onSearchKey}
            autoComplete="off"
            spellCheck={false}
          />
          <kbd aria-hidden="true">/</kbd>
        </div>
      </div>
      <div className="step-library-list" ref={list} onKeyDown={onListKey} data-testid="step-library">
        {groups.map(({ group, types }) => (
          <section key={group} className="step-library-group" aria-label={group}>
            <h3>{group}</h3>
            <ul>
              {types.map((type) => {
                const hints = stepUiHints(type.type);
                return (
                  <li key={type.type}>
                    <button
                      type="button"
                      className={`step-library-item group-${hints.group.toLowerCase().replace(/\s+/g, "-")}`}
                      aria-label={`Add ${type.label}`}
                      aria-describedby={`step-desc-${type.type.replace(/\W/g, "-")}`}
                      title={`${type.description}\nClick to add beside the selection, or drag onto the canvas or an edge.`}
                      data-step-type={type.type}
                      disabled={disabled}
                      draggable={!disabled}
                      onDragStart={(e) => onDragStart(e, type)}
                      onClick={() => onAdd(type)}
                    >
                      <span className="step-library-icon">
                        <StepIcon icon={hints.icon} />
                      </span>
                      <span className="step-library-text">
                        <span className="step-library-label">{type.label}</span>
                        <span className="step-library-desc" id={`step-desc-${type.type.replace(/\W/g, "-")}`}>
                          {type.description}
                        </span>
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
          </section>
        ))}
        {matches.length === 0 ? (
          <p className="step-library-empty" role="status">
            No step matches “{query.trim()}”. Try “http”, “email”, “if” or “ai”.
          </p>
        ) : null}
      </div>
      <p className="step-library-hint">Drag onto the canvas, or onto an edge to insert. Press ? for shortcuts.</p>
    </aside>
  );
}
