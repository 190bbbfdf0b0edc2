import { hasPromptMessages, isStepType, isTriggerType, PROMPT_MESSAGES_KEY, stepTypes, type Step } from "@algorythmos/domain";
import { useId } from "react";
import type { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { LOCAL_ORIGIN, type PresenceUser } from "~/lib/collab";
import { deleteSteps, setConfigValue, stepMap } from "~/lib/doc-edits";
import type { StepTypeInfo } from "~/lib/operations";
import { ConfigFields } from "./ConfigFields";
import { StepNameInput } from "./NameInput";
import { NotesEditor } from "./NotesEditor";
import { PromptMessages } from "./PromptMessages";
import { StepKeyField } from "./StepKeyField";
import { TriggerInfo } from "./TriggerInfo";

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
  /** Every step of the workflow, for the key field (a key is unique per workflow, L12). */
  allSteps?: readonly Step[] | undefined;
}

type OnError = NonNullable<Step["onError"]>;
const ON_ERROR_CHOICES: { value: OnError; label: string }[] = [
  { value: "fail", label: "Fail run" },
  { value: "continue", label: "Continue" },
  { value: "branch", label: "Follow error edge" },
];

/** The step's onError, a plain string chosen from a list (L9); "fail" is the default, so it is stored as absent. */
function setOnError(doc: Y.Doc, stepId: string, value: OnError) {
  const step = stepMap(doc, stepId);
  if (!step) return;
  doc.transact(() => {
    if (value === "fail") step.delete("onError");
    else step.set("onError", value);
  }, LOCAL_ORIGIN);
}

/** The selected step: its name, its config (a form generated from the type's JSON Schema) and notes. */
export function StepPanel({ doc, step, stepType, problems, readOnly, provider, me, credentials, allSteps }: StepPanelProps) {
  // The registry says which credential type a step's credentialId names (StepType.credentialType).
  const credentialType = stepType?.credentialType;
  const usable = credentials && credentialType ? credentials.filter((c) => c.type === credentialType) : undefined;
  const nameId = useId();
  const notesLabelId = useId();
  const onErrorId = useId();
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
        <StepNameInput doc={doc} step={step} typeLabel={stepType?.label} awareness={provider?.awareness ?? null} id={nameId} disabled={readOnly} />
      </div>
      <StepKeyField doc={doc} step={step} steps={allSteps ?? [step]} readOnly={readOnly} />
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
      {/* The webhook's URL and a test request, or the cron schedule's next runs. */}
      {isTriggerType(step.type) ? <TriggerInfo step={step} /> : null}
      {isTriggerType(step.type) ? null : (
        <div className="field">
          <label htmlFor={onErrorId}>On error</label>
          <select id={onErrorId} value={step.onError ?? "fail"} disabled={readOnly} onChange={(e) => setOnError(doc, step.id, e.target.value as OnError)}>
            {ON_ERROR_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
          {step.onError === "branch" ? <p className="muted small">Connect the step’s red “error” output: it receives {"{ error, input }"} and the run goes on there.</p> : null}
          {step.onError === "continue" ? <p className="muted small">A failure is recorded and the next steps run with {"{ error }"} as this step’s output.</p> : null}
        </div>
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
