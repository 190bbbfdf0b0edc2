import type { TextFieldRef } from "@algorythmos/domain";
import { useLayoutEffect, useState, type AriaAttributes } from "react";
import type { WebsocketProvider } from "y-websocket";
import type * as Y from "yjs";
import { caretCoordinates, useCollabText, type RemoteCaret, type TextElement } from "~/lib/text-binding";

interface CollabTextFieldProps extends AriaAttributes {
  doc: Y.Doc;
  field: TextFieldRef;
  awareness: WebsocketProvider["awareness"] | null;
  id: string;
  readOnly: boolean;
  /** Disabled (greyed) rather than read-only, as the generated config form shows a viewer's fields. */
  disabled?: boolean;
  multiline?: boolean;
  rows?: number;
  maxLength?: number;
  placeholder?: string;
  className?: string;
  emptyRemoves?: boolean;
}

interface PlacedCaret extends RemoteCaret {
  left: number;
  top: number;
  height: number;
  visible: boolean;
}

/**
 * A text input or text area co-typed through the field's Y.Text (see ~/lib/text-binding.ts), with the carets
 * of the others typing in it: a bar in their colour with their name above, and a ring in the colour of the
 * first of them around the field (so who is typing shows even when their caret is scrolled out of view).
 */
export function CollabTextField({ doc, field, awareness, id, readOnly, disabled, multiline, rows = 4, maxLength, placeholder, className, emptyRemoves, ...aria }: CollabTextFieldProps) {
  const { ref, carets, version } = useCollabText<TextElement>({ doc, field, awareness, readOnly: readOnly || !!disabled, emptyRemoves });
  const [placed, setPlaced] = useState<PlacedCaret[]>([]);

  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    setPlaced(
      carets.map((caret) => {
        const at = caretCoordinates(element, caret.index ?? element.value.length);
        const visible = caret.index !== null && at.left >= 0 && at.left <= element.offsetWidth && at.top >= 0 && at.top <= element.offsetHeight - 4;
        return { ...caret, left: element.offsetLeft + at.left, top: element.offsetTop + at.top, height: at.height, visible };
      }),
    );
  }, [carets, version, ref]);

  const ring = carets[0]?.user.color;
  const common = {
    id,
    className,
    readOnly,
    disabled,
    maxLength,
    placeholder,
    spellCheck: false,
    "data-remote-typing": carets.length ? carets.map((c) => c.user.name).join(", ") : undefined,
    style: ring ? { boxShadow: `0 0 0 2px ${ring}` } : undefined,
    ...aria,
  };
  return (
    <div className="collab-text">
      {multiline ? <textarea ref={ref as React.RefObject<HTMLTextAreaElement>} rows={rows} {...common} /> : <input ref={ref as React.RefObject<HTMLInputElement>} type="text" {...common} />}
      {placed.length ? (
        <div className="remote-carets" aria-hidden="true">
          {placed.map((caret) =>
            caret.visible ? (
              <span
                key={caret.clientId}
                className="remote-caret"
                data-testid="remote-caret"
                style={{ left: caret.left, top: caret.top, height: caret.height, borderColor: caret.user.color }}
              >
                <span className="remote-caret-label" style={{ background: caret.user.color }}>
                  {caret.user.name}
                </span>
              </span>
            ) : null,
          )}
        </div>
      ) : null}
    </div>
  );
}
