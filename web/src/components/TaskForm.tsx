// Create or edit a task. What the user typed stays until the server has taken it: a refused
// or failed save keeps every field, with the API's field errors beside them.
import { useId, useState, type FormEvent } from "react";

import { priorities, type Priority, type Task, type TaskDraft } from "../api/tasks";
import { Field, fieldErrorOf } from "./Field";
import { ProblemMessage } from "./ProblemMessage";

/** `datetime-local` value (local time) of an RFC 3339 instant, and back. */
function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  const offset = date.getTimezoneOffset() * 60_000;
  return new Date(date.getTime() - offset).toISOString().slice(0, 16);
}
function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

/** The `<option>`s of the three priorities, as the API names them. */
export function PriorityOptions() {
  return priorities.map((p) => (
    <option key={p} value={p}>
      {p[0]?.toUpperCase() + p.slice(1)}
    </option>
  ));
}

type Props = {
  initial?: Task;
  submitLabel: string;
  error?: unknown;
  onSubmit: (draft: TaskDraft) => Promise<void>;
  onCancel?: () => void;
};

export function TaskForm({ initial, submitLabel, error: outerError, onSubmit, onCancel }: Props) {
  const [title, setTitle] = useState(initial?.title ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [due, setDue] = useState(toLocalInput(initial?.due_at ?? null));
  const [priority, setPriority] = useState<Priority>(initial?.priority ?? "medium");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const descriptionId = useId();
  const priorityId = useId();
  const shown = error ?? outerError;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const sent = { title, description, due, priority };
    try {
      await onSubmit({
        title: title.trim(),
        description: description.trim() || null,
        due_at: fromLocalInput(due),
        priority,
      });
      if (!initial) {
        // Cleared for the next task, except what was typed while this one was saving.
        setTitle((now) => (now === sent.title ? "" : now));
        setDescription((now) => (now === sent.description ? "" : now));
        setDue((now) => (now === sent.due ? "" : now));
        setPriority((now) => (now === sent.priority ? "medium" : now));
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="task-form" onSubmit={submit} noValidate>
      <Field
        label="Title"
        // The editor replaces the row the user was on: the focus goes into it.
        autoFocus={Boolean(initial)}
        required
        maxLength={200}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        error={fieldErrorOf(shown, "title")}
      />
      <div className="field">
        <label htmlFor={descriptionId}>Description</label>
        <textarea
          id={descriptionId}
          rows={2}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          aria-invalid={fieldErrorOf(shown, "description") ? true : undefined}
          aria-describedby={fieldErrorOf(shown, "description") ? `${descriptionId}-error` : undefined}
        />
        {fieldErrorOf(shown, "description") && (
          <p id={`${descriptionId}-error`} className="field-error">
            {fieldErrorOf(shown, "description")}
          </p>
        )}
      </div>
      <div className="row">
        <Field
          label="Due"
          type="datetime-local"
          value={due}
          onChange={(e) => setDue(e.target.value)}
          error={fieldErrorOf(shown, "due_at")}
        />
        <div className="field">
          <label htmlFor={priorityId}>Priority</label>
          <select id={priorityId} value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
            <PriorityOptions />
          </select>
        </div>
      </div>
      {!fieldErrorOf(shown, "title") && <ProblemMessage error={shown} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !title.trim()}>
          {busy ? "Saving…" : submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
