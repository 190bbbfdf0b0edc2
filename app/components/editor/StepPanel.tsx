import { hasPromptMessages, isStepType, PROMPT_MESSAGES_KEY, stepTypes, type Step } from "@algorythmos/domain";
import { useId } from "react";
import type { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import type { PresenceUser } from "~/lib/collab";
import { deleteSteps, setConfigValue, stepMap } from "~/lib/doc-edits";
import type { StepTypeInfo } from "~/lib/operations";
import { CollabTextField } from "./CollabTextField";
import { ConfigFields } from "./ConfigFields";
import { NotesEditor } from "./NotesEditor";
import { PromptMessages } from "./PromptMessages";

interface StepPanelProps {
  doc: Y.Doc;
  step: Step;
  stepType: StepTypeInfo | undefined;
  problems: { message: string; path?: (string | number)[] }[];
  readOnly: boolean;
  /** For the notes and prompt editors' remote carets. */
  provider: WebsocketProvider | null;
  me: PresenceUser | null;
  /** The workspace's credentials (name and type), for steps that use one. */
  credentials?: { id: string; name: string; type: string }[] | undefined;
}

/** Which credential type each step type's `credentialId` refers to. */
const CREDENTIAL_TYPE_OF_STEP: Record<string, string> = { "openai.chat": "openai", "email.postmark": "postmark" };

/** The selected step: its name, its config (a form generated from the type's JSON Schema) and notes. */
export function StepPanel({ doc, step, stepType, problems, readOnly, provider, me, credentials }: StepPanelProps) {
  const credentialType = CREDENTIAL_TYPE_OF_STEP[step.type];
  const usable = credentials && credentialType ? credentials.filter((c) => c.type === credentialType) : undefined;
  const nameId = useId();
  const notesLabelId = useId();
  const errors: Record<string, string> = {};
  const general: string[] = [];
  for (const problem of problems) {
    const key = problem.path?.[0];
    if (typeof key === "string" && !errors[key]) errors[key] = problem.message.replace(/^Step "[^"]*": [^:]+: /, "");
    else general.push(problem.message);
  }
  const multiline = isStepType(step.type) ? (stepTypes[step.type].multilineFields ?? []) : [];
  const notes = stepMap(doc, step.id)?.get("notes");

  return (
    <section className="panel-section" aria-labelledby={`${nameId}-heading`}>
      <h2 id={`${nameId}-heading`}>{stepType?.label ?? step.type}</h2>
      {stepType?.description ? <p className="muted small">{stepType.description}</p> : null}
      <div className="field">
        <label htmlFor={nameId}>Step name</label>
        <CollabTextField doc={doc} field={{ kind: "step", stepId: step.id, key: "name" }} awareness={provider?.awareness ?? null} id={nameId} readOnly={false} disabled={readOnly} maxLength={200} />
      </div>
      {stepType ? (
        <ConfigFields
          schema={stepType.configSchema}
          config={step.config}
          errors={errors}
          multiline={multiline}
          readOnly={readOnly}
          credentials={usable}
          collab={{ doc, stepId: step.id, stepType: step.type, awareness: provider?.awareness ?? null }}
          onChange={(key, value) => setConfigValue(doc, step.id, key, value)}
          renderField={(key, field) =>
            key === PROMPT_MESSAGES_KEY && hasPromptMessages(step.type) ? (
              <PromptMessages
                key={step.id}
                doc={doc}
                stepId={step.id}
                value={field.value}
                roles={(field.schema.items?.properties?.role?.enum ?? []).map(String)}
                label={field.label}
                required={field.required}
                error={field.error}
                readOnly={readOnly}
                provider={provider}
                me={me}
              />
            ) : null
          }
        />
      ) : (
        <p className="form-error">Unknown step type “{step.type}”.</p>
      )}
      {general.length ? (
        <ul className="problems">
          {general.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : null}
      <div className="field">
        <span className="label" id={notesLabelId}>
          Notes
        </span>
        {notes instanceof Y.XmlFragment ? <NotesEditor key={step.id} fragment={notes} readOnly={readOnly} labelId={notesLabelId} provider={provider} me={me} /> : null}
      </div>
      {readOnly ? null : (
        <button type="button" className="danger" onClick={() => deleteSteps(doc, [step.id])}>
          Delete step
        </button>
      )}
    </section>
  );
}
