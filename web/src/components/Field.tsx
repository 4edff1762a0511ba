// A labelled input whose error (the API's `errors[].field`) is shown beside it and announced
// to screen readers through aria-describedby.
import { useId, type InputHTMLAttributes } from "react";

import { ApiProblem } from "../auth/problem";

/** The message the API gave for `field` (its `errors[].field`), if `error` has one. */
export function fieldErrorOf(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiProblem)) return undefined;
  return error.errors.find((fieldError) => fieldError.field === field)?.message;
}

type Props = InputHTMLAttributes<HTMLInputElement> & { label: string; error?: string };

export function Field({ label, error, ...input }: Props) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        {...input}
      />
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
