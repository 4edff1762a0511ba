// The task list: filters, search, sort and "load more" over the API's cursor; optimistic
// create, complete, edit and delete that roll back if the server refuses; edits guarded by
// If-Match, with a 412 resolved by the user (keep theirs or take the server's).
import { useId, useMemo, useRef, useState, type FormEvent } from "react";
import {
  useInfiniteQuery,
  useMutation,
  useQueryClient,
  type QueryKey,
} from "@tanstack/react-query";

import { ApiProblem } from "../auth/problem";
import {
  sorts,
  tasksApi,
  type Priority,
  type Task,
  type TaskDraft,
  type TaskFilters,
} from "../api/tasks";
import { fieldErrorOf } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { PriorityOptions, TaskForm } from "../components/TaskForm";
import { useAuth } from "../session/auth-context";
import { replacingTask, withoutTask, withTask, type Pages } from "./task-cache";
import { useDebounced } from "./use-debounced";

type Conflict = { mine: Task; theirs: Task; patch: Partial<TaskDraft> & { completed?: boolean } };

export function TasksPage() {
  const auth = useAuth();
  const api = useMemo(() => tasksApi(auth), [auth]);
  const queryClient = useQueryClient();
  const [completed, setCompleted] = useState<"" | "true" | "false">("");
  const [priority, setPriority] = useState<"" | Priority>("");
  const [search, setSearch] = useState("");
  const [sort, setSort] = useState("-created_at");
  // The task as it was when its editor opened: the save is guarded by that version, even if
  // the list has refreshed since (a change made elsewhere meanwhile is then a 412).
  const [editing, setEditing] = useState<Task | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [writeError, setWriteError] = useState<unknown>(null);
  const q = useDebounced(search, 300);
  const ids = useId();
  const pendingWrites = useRef(0);
  const placeholders = useRef(0);

  const filters: TaskFilters = {
    completed: completed || undefined,
    priority: priority || undefined,
    q: q || undefined,
    sort,
  };
  const key: QueryKey = ["tasks", filters];
  const tasks = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => api.list(filters, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });

  /**
   * Runs an optimistic change: applies `change` to the cache now; on success puts the server's
   * answer in its place (`settle`: its new version guards the next write), on failure undoes
   * it for this one task only, leaving other writes in flight alone.
   */
  async function optimistic<T>(
    change: (data: Pages | undefined) => Pages | undefined,
    write: () => Promise<T>,
    settle: (data: Pages | undefined, answer: T) => Pages | undefined,
    undo: (data: Pages | undefined) => Pages | undefined,
  ) {
    await queryClient.cancelQueries({ queryKey: ["tasks"] });
    queryClient.setQueryData<Pages>(key, change);
    setWriteError(null);
    pendingWrites.current += 1;
    try {
      const answer = await write();
      queryClient.setQueryData<Pages>(key, (data) => settle(data, answer));
      return answer;
    } catch (error) {
      queryClient.setQueryData<Pages>(key, undo);
      throw error;
    } finally {
      // Only when no other write is still in flight: a refetch now would undo its change.
      pendingWrites.current -= 1;
      if (pendingWrites.current === 0) {
        void queryClient.invalidateQueries({ queryKey: ["tasks"] });
      }
    }
  }

  const create = useMutation({
    mutationFn: (draft: TaskDraft) => {
      const now = new Date().toISOString();
      const placeholder: Task = {
        ...draft,
        id: `pending-${(placeholders.current += 1)}`,
        completed: false,
        completed_at: null,
        created_at: now,
        updated_at: now,
        version: 0,
      };
      return optimistic(
        (data) => withTask(data, placeholder),
        () => api.create(draft),
        (data, created) => replacingTask(data, placeholder.id, created),
        (data) => withoutTask(data, placeholder.id),
      );
    },
  });

  async function update(task: Task, patch: Conflict["patch"]) {
    try {
      await optimistic(
        (data) => replacingTask(data, task.id, { ...task, ...patch }),
        () => api.update(task, patch),
        (data, saved) => replacingTask(data, task.id, saved),
        (data) => replacingTask(data, task.id, task),
      );
      setEditing(null);
    } catch (error) {
      if (error instanceof ApiProblem && error.status === 412) {
        try {
          setConflict({ mine: { ...task, ...patch }, theirs: await api.get(task.id), patch });
        } catch (reading) {
          // Deleted meanwhile (404), or unreachable: say so, and show the list as it is now.
          setEditing(null);
          setWriteError(reading);
          void queryClient.invalidateQueries({ queryKey: ["tasks"] });
        }
      } else {
        setWriteError(error);
      }
    }
  }

  async function remove(task: Task) {
    try {
      await optimistic(
        (data) => withoutTask(data, task.id),
        () => api.remove(task),
        (data) => data,
        (data) => withTask(data, task),
      );
    } catch (error) {
      setWriteError(error);
    }
  }

  async function resolve(keepMine: boolean) {
    if (!conflict) return;
    const { theirs, patch } = conflict;
    setConflict(null);
    if (keepMine) {
      await update(theirs, patch);
    } else {
      setEditing(null);
      void queryClient.invalidateQueries({ queryKey: ["tasks"] });
    }
  }

  const items = tasks.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = Boolean(completed || priority || q);
  return (
    <section aria-labelledby="tasks-heading">
      <h1 id="tasks-heading">Tasks</h1>

      <details className="card new-task" open>
        <summary>New task</summary>
        <TaskForm
          submitLabel="Add task"
          error={create.error}
          onSubmit={async (draft) => {
            await create.mutateAsync(draft);
          }}
        />
      </details>

      <form className="filters" role="search" onSubmit={(e: FormEvent) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={`${ids}-search`}>Search</label>
          <input
            id={`${ids}-search`}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-status`}>Status</label>
          <select
            id={`${ids}-status`}
            value={completed}
            onChange={(e) => setCompleted(e.target.value as typeof completed)}
          >
            <option value="">All</option>
            <option value="false">Open</option>
            <option value="true">Completed</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-priority`}>Priority</label>
          <select
            id={`${ids}-priority`}
            value={priority}
            onChange={(e) => setPriority(e.target.value as typeof priority)}
          >
            <option value="">Any</option>
            <PriorityOptions />
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-sort`}>Sort</label>
          <select id={`${ids}-sort`} value={sort} onChange={(e) => setSort(e.target.value)}>
            {Object.entries(sorts).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </form>

      <ProblemMessage error={writeError} />
      {conflict && (
        <div role="alertdialog" aria-labelledby="conflict-heading" className="card conflict">
          <h2 id="conflict-heading">This task changed while you were editing it</h2>
          <dl>
            <dt>On the server</dt>
            <dd>
              {conflict.theirs.title} · {conflict.theirs.priority}
              {conflict.theirs.completed ? " · completed" : ""}
            </dd>
            <dt>Yours</dt>
            <dd>
              {conflict.mine.title} · {conflict.mine.priority}
              {conflict.mine.completed ? " · completed" : ""}
            </dd>
          </dl>
          <button type="button" className="primary" autoFocus onClick={() => void resolve(true)}>
            Keep mine
          </button>
          <button type="button" onClick={() => void resolve(false)}>
            Take the server's
          </button>
        </div>
      )}

      {tasks.isRefetchError && (
        <div className="card" role="alert">
          The list could not be refreshed; it shows what was last loaded.{" "}
          <button type="button" onClick={() => void tasks.refetch()}>
            Try again
          </button>
        </div>
      )}
      {tasks.isPending ? (
        <p role="status">Loading tasks…</p>
      ) : tasks.isError && !tasks.data ? (
        <div className="card">
          <ProblemMessage error={tasks.error} />
          <button type="button" onClick={() => void tasks.refetch()}>
            Try again
          </button>
        </div>
      ) : items.length === 0 ? (
        <p className="empty">{filtered ? "No tasks match these filters." : "No tasks yet: add your first one above."}</p>
      ) : (
        <ul className="task-list" aria-label="Tasks">
          {items.map((task) =>
            editing?.id === task.id ? (
              <li key={task.id} className="card">
                <TaskForm
                  initial={editing}
                  submitLabel="Save"
                  onCancel={() => setEditing(null)}
                  onSubmit={(draft) => update(editing, changedFields(editing, draft))}
                />
              </li>
            ) : (
              <TaskRow
                key={task.id}
                task={task}
                onToggle={() => void update(task, { completed: !task.completed })}
                onEdit={() => setEditing(task)}
                onDelete={() => void remove(task)}
              />
            ),
          )}
        </ul>
      )}
      {tasks.hasNextPage && (
        <button type="button" onClick={() => void tasks.fetchNextPage()} disabled={tasks.isFetchingNextPage}>
          {tasks.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
      {fieldErrorOf(tasks.error, "q") && <p className="field-error">{fieldErrorOf(tasks.error, "q")}</p>}
    </section>
  );
}

/** Only what the user changed in the editor: "keep mine" after a 412 then overwrites nothing
 * else that changed on the server. */
function changedFields(task: Task, draft: TaskDraft): Partial<TaskDraft> {
  const patch: Partial<TaskDraft> = {};
  if (draft.title !== task.title) patch.title = draft.title;
  if (draft.description !== task.description) patch.description = draft.description;
  if (draft.due_at !== task.due_at) patch.due_at = draft.due_at;
  if (draft.priority !== task.priority) patch.priority = draft.priority;
  return patch;
}

function TaskRow({
  task,
  onToggle,
  onEdit,
  onDelete,
}: {
  task: Task;
  onToggle: () => void;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const pending = task.id.startsWith("pending-");
  return (
    <li className={`card task${task.completed ? " done" : ""}`} aria-busy={pending || undefined}>
      <input
        type="checkbox"
        checked={task.completed}
        disabled={pending}
        onChange={onToggle}
        aria-label={`Completed: ${task.title}`}
      />
      <div className="task-body">
        <span className="task-title">{task.title}</span>
        {task.description && <p className="task-description">{task.description}</p>}
        <span className="task-meta">
          <span className={`badge ${task.priority}`}>{task.priority}</span>
          {task.due_at && <span>due {new Date(task.due_at).toLocaleString()}</span>}
        </span>
      </div>
      <button type="button" onClick={onEdit} disabled={pending} aria-label={`Edit ${task.title}`}>
        Edit
      </button>
      <button type="button" onClick={onDelete} disabled={pending} aria-label={`Delete ${task.title}`}>
        Delete
      </button>
    </li>
  );
}
