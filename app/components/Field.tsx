import { useEffect, useId, useRef, useState, type FormEvent, type InputHTMLAttributes } from "react";

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  error?: string | undefined;
}

/**
 * A labelled input with its validation message wired up for assistive technology. The message from the last
 * submission describes the value that was submitted: once the person edits the field it is stale, and the input's
 * own constraints (required, type, pattern) speak instead, as they type, until the form is submitted again.
 */
export function Field({ label, error, id, onInput, ...input }: FieldProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const errorId = `${inputId}-error`;
  const ref = useRef<HTMLInputElement>(null);
  const [edited, setEdited] = useState<{ after: string; message: string } | null>(null);
  useEffect(() => {
    const form = ref.current?.form;
    const submitted = () => setEdited(null);
    form?.addEventListener("submit", submitted);
    return () => form?.removeEventListener("submit", submitted);
  }, []);
  const shown = error && edited?.after === error ? edited.message || undefined : error;
  const typed = (event: FormEvent<HTMLInputElement>) => {
    if (error) setEdited({ after: error, message: event.currentTarget.validationMessage });
    onInput?.(event);
  };
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input ref={ref} id={inputId} aria-invalid={shown ? true : undefined} aria-describedby={shown ? errorId : undefined} onInput={typed} {...input} />
      <FieldError inputId={inputId} message={shown} />
    </div>
  );
}

/** A field's validation message, at the id its input's aria-describedby names (`<inputId>-error`). */
export function FieldError({ inputId, message }: { inputId: string; message: string | null | undefined }) {
  return message ? (
    <p className="field-error" id={`${inputId}-error`}>
      {message}
    </p>
  ) : null;
}
