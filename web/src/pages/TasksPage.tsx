// The task list: filters, search, sort and "load more" over the API's cursor; optimistic
// create, complete, edit and delete that roll back if the server refuses; edits guarded by
// If-Match, with a 412 resolved by the user (keep theirs or take the server's).
import { useMemo, useState, type FormEvent } from "react";
import {
  useInfiniteQuery,
  useMutation,
  useQueryClient,
  type QueryKey,
} from "@tanstack/react-query";

import { ApiProblem } from "../auth/problem";
import {
  priorities,
  sorts,
  tasksApi,
  type Priority,
  type Task,
  type TaskDraft,
  type TaskFilters,
} from "../api/tasks";
import { fieldErrorOf } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { TaskForm } from "../components/TaskForm";
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

  /** Runs an optimistic change: applies `change` to the cache now, restores it on failure. */
  async function optimistic<T>(change: (data: Pages | undefined) => Pages | undefined, write: () => Promise<T>) {
    await queryClient.cancelQueries({ queryKey: ["tasks"] });
    const before = queryClient.getQueryData<Pages>(key);
    queryClient.setQueryData<Pages>(key, change);
    setWriteError(null);
    try {
      return await write();
    } catch (error) {
      queryClient.setQueryData<Pages>(key, before);
      throw error;
    } finally {
      void queryClient.invalidateQueries({ queryKey: ["tasks"] });
    }
  }

  const create = useMutation({
    mutationFn: (draft: TaskDraft) => {
      const now = new Date().toISOString();
      const placeholder: Task = {
        ...draft,
        id: `pending-${now}`,
        completed: false,
        completed_at: null,
        created_at: now,
        updated_at: now,
        version: 0,
      };
      return optimistic((data) => withTask(data, placeholder), () => api.create(draft));
    },
  });

  async function update(task: Task, patch: Conflict["patch"]) {
    try {
      await optimistic(
        (data) => replacingTask(data, task.id, { ...task, ...patch }),
        () => api.update(task, patch),
      );
      setEditing(null);
    } catch (error) {
      if (error instanceof ApiProblem && error.status === 412) {
        setConflict({ mine: { ...task, ...patch }, theirs: await api.get(task.id), patch });
      } else {
        setWriteError(error);
      }
    }
  }

  async function remove(task: Task) {
    try {
      await optimistic((data) => withoutTask(data, task.id), () => api.remove(task));
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
        <label>
          Search
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label>
          Status
          <select value={completed} onChange={(e) => setCompleted(e.target.value as typeof completed)}>
            <option value="">All</option>
            <option value="false">Open</option>
            <option value="true">Completed</option>
          </select>
        </label>
        <label>
          Priority
          <select value={priority} onChange={(e) => setPriority(e.target.value as typeof priority)}>
            <option value="">Any</option>
            {priorities.map((p) => (
              <option key={p} value={p}>
                {p[0]?.toUpperCase() + p.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sort
          <select value={sort} onChange={(e) => setSort(e.target.value)}>
            {Object.entries(sorts).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
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
          <button type="button" className="primary" onClick={() => void resolve(true)}>
            Keep mine
          </button>
          <button type="button" onClick={() => void resolve(false)}>
            Take the server's
          </button>
        </div>
      )}

      {tasks.isPending ? (
        <p role="status">Loading tasks…</p>
      ) : tasks.isError ? (
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
                  onSubmit={(draft) => update(editing, draft)}
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
