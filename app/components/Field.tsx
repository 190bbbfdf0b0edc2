import { useId, type InputHTMLAttributes } from "react";

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  error?: string | undefined;
}

/** A labelled input with its validation message wired up for assistive technology. */
export function Field({ label, error, id, ...input }: FieldProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const errorId = `${inputId}-error`;
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input id={inputId} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined} {...input} />
      <FieldError inputId={inputId} message={error} />
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
