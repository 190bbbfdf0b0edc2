import { insertPromptMessage, promptMessagesArray, removePromptMessage, updatePromptMessage, type PromptMessageMap } from "@algorythmos/domain";
import { useId, useState } from "react";
import type { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { LOCAL_ORIGIN, type PresenceUser } from "~/lib/collab";
import { CollabTextEditor } from "./NotesEditor";

interface PromptMessagesProps {
  doc: Y.Doc;
  stepId: string;
  /** The messages as the definition reads them (for the plain JSON form, before its first edit). */
  value: unknown;
  roles: string[];
  label: string;
  required: boolean;
  error: string | undefined;
  readOnly: boolean;
  provider: WebsocketProvider | null;
  me: PresenceUser | null;
}

/** A stable React key per message map, so an editor stays with its message when others are added or removed. */
const keys = new WeakMap<object, string>();
let nextKey = 0;
const keyOf = (item: object) => {
  let key = keys.get(item);
  if (!key) keys.set(item, (key = `m${nextKey++}`));
  return key;
};

/**
 * The messages of an openai.chat step, co-edited live: each message's text is a Tiptap editor bound to its
 * Y.XmlFragment (with the others' carets); role, add and remove write the Y.Array of message maps. A step
 * still holding the plain JSON form shows plain text areas until its first edit, which converts the list
 * (one transaction) and moves the caret into the collaborative editor.
 */
export function PromptMessages({ doc, stepId, value, roles, label, required, error, readOnly, provider, me }: PromptMessagesProps) {
  const id = useId();
  const [focusRequest, setFocusRequest] = useState<{ index: number; offset: number } | null>(null);
  const array = promptMessagesArray(doc, stepId);
  const items: { key: string; role: string; content: Y.XmlFragment | null; text: string }[] = array
    ? array.toArray().map((item: PromptMessageMap | unknown, index) => {
        const map = item instanceof Y.Map ? item : null;
        const role = map?.get("role");
        const content = map?.get("content");
        return {
          key: map ? keyOf(map) : `bad-${index}`,
          role: typeof role === "string" ? role : "",
          content: content instanceof Y.XmlFragment ? content : null,
          text: typeof content === "string" ? content : "",
        };
      })
    : (Array.isArray(value) ? value : []).map((message: unknown, index) => {
        const m = (message && typeof message === "object" ? message : {}) as { role?: unknown; content?: unknown };
        return { key: `plain-${index}`, role: typeof m.role === "string" ? m.role : "", content: null, text: typeof m.content === "string" ? m.content : "" };
      });

  const addRole = items.length === 0 && roles.includes("system") ? "system" : "user";
  return (
    <fieldset className="field messages" aria-describedby={error ? `${id}-error` : undefined} data-testid="prompt-messages">
      <legend className="label">
        {label}
        {required ? <span className="muted small"> required</span> : null}
      </legend>
      {items.length === 0 ? <p className="muted small">No messages yet.</p> : null}
      {items.map((message, index) => (
        <div className="message" key={message.key}>
          <div className="message-head">
            <label htmlFor={`${id}-${index}-role`} className="visually-hidden">
              Message {index + 1} role
            </label>
            <select
              id={`${id}-${index}-role`}
              value={message.role}
              disabled={readOnly}
              onChange={(e) => updatePromptMessage(doc, stepId, index, { role: e.target.value }, LOCAL_ORIGIN)}
            >
              {roles.includes(message.role) ? null : <option value={message.role}>{message.role || "—"}</option>}
              {roles.map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
            {readOnly ? null : (
              <button type="button" className="small-button" aria-label={`Remove message ${index + 1}`} onClick={() => removePromptMessage(doc, stepId, index, LOCAL_ORIGIN)}>
                Remove
              </button>
            )}
          </div>
          {message.content ? (
            <CollabTextEditor
              fragment={message.content}
              readOnly={readOnly}
              provider={provider}
              me={me}
              label={`Message ${index + 1} text`}
              variant="plain"
              className="notes-editor prompt-editor"
              focusAtOffset={focusRequest?.index === index ? focusRequest.offset : undefined}
            />
          ) : (
            <>
              <label htmlFor={`${id}-${index}-content`} className="visually-hidden">
                Message {index + 1} text
              </label>
              <textarea
                id={`${id}-${index}-content`}
                rows={3}
                value={message.text}
                disabled={readOnly}
                placeholder="Text; {{ input.name }} inserts a value"
                onChange={(e) => {
                  // The first edit: the list becomes collaborative, and the caret moves into the new editor.
                  setFocusRequest({ index, offset: e.target.selectionStart ?? e.target.value.length });
                  updatePromptMessage(doc, stepId, index, { content: e.target.value }, LOCAL_ORIGIN);
                }}
              />
            </>
          )}
        </div>
      ))}
      {readOnly ? null : (
        <button type="button" className="small-button" onClick={() => insertPromptMessage(doc, stepId, { role: addRole, content: "" }, undefined, LOCAL_ORIGIN)}>
          Add message
        </button>
      )}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
