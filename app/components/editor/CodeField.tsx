import { readTextField, type TextFieldRef } from "@algorythmos/domain";
import { useEffect, useRef, useState } from "react";
import type { WebsocketProvider } from "y-websocket";
import type * as Y from "yjs";
import type { CodeEditorHandle } from "./code-editor.client";

interface CodeFieldProps {
  doc: Y.Doc;
  field: TextFieldRef;
  awareness: WebsocketProvider["awareness"] | null;
  /** The id of the field's <label> (the editor is labelled by it). */
  labelId: string;
  readOnly: boolean;
  describedBy?: string | undefined;
  invalid?: boolean;
}

/**
 * A co-typed source-code field (the `code` step's JavaScript): CodeMirror 6 on the field's Y.Text with the others'
 * carets (./code-editor.client.ts). CodeMirror is loaded on first use, so it is not in the studio's main bundle;
 * until it is there the text shows read-only.
 */
export function CodeField({ doc, field, awareness, labelId, readOnly, describedBy, invalid = false }: CodeFieldProps) {
  const parent = useRef<HTMLDivElement>(null);
  const editor = useRef<CodeEditorHandle | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [failed, setFailed] = useState(false);
  const fieldKey = JSON.stringify(field);

  useEffect(() => {
    let disposed = false;
    import("./code-editor.client")
      .then(({ mountCodeEditor }) => {
        if (disposed || !parent.current) return;
        editor.current = mountCodeEditor({ parent: parent.current, doc, field, awareness, readOnly, labelId, describedBy, invalid });
        setLoaded(true);
      })
      .catch(() => !disposed && setFailed(true));
    return () => {
      disposed = true;
      editor.current?.destroy();
      editor.current = null;
      setLoaded(false);
    };
    // The editor is made once per doc, field and awareness; the rest is reconfigured below.
  }, [doc, fieldKey, awareness]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => editor.current?.setReadOnly(readOnly), [readOnly, loaded]);
  useEffect(() => editor.current?.setDescription(describedBy, invalid), [describedBy, invalid, loaded]);

  return (
    <div className="code-field" data-testid="code-field" data-loaded={loaded || undefined}>
      <div ref={parent} className="code-field-editor" />
      {loaded ? null : (
        <pre className="code-field-placeholder" aria-labelledby={labelId}>
          {failed ? "The code editor could not be loaded; reload the page." : (readTextField(doc, field).value ?? "")}
        </pre>
      )}
    </div>
  );
}
