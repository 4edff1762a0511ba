// The task API (docs/http-api.md, "tasks-service"): every answer is checked with zod at the
// edge, so a surprise from the server is an error here, never a crash deeper in the UI.
import { z } from "zod";

import type { AuthClient } from "../auth/client";
import { ApiProblem } from "../auth/problem";

export const priorities = ["low", "medium", "high"] as const;
export type Priority = (typeof priorities)[number];

export const taskSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  completed: z.boolean(),
  completed_at: z.string().nullable(),
  due_at: z.string().nullable(),
  priority: z.enum(priorities),
  created_at: z.string(),
  updated_at: z.string(),
  version: z.number(),
});
export type Task = z.infer<typeof taskSchema>;

const pageSchema = z.object({
  items: z.array(taskSchema),
  next_cursor: z.string().nullable(),
});
export type TaskPage = z.infer<typeof pageSchema>;

export type TaskFilters = {
  completed?: "true" | "false";
  priority?: Priority;
  q?: string;
  sort: string;
};

export type TaskDraft = {
  title: string;
  description: string | null;
  due_at: string | null;
  priority: Priority;
};

export const sorts: Record<string, string> = {
  "-created_at": "Newest first",
  created_at: "Oldest first",
  due_at: "Due soonest",
  "-priority": "Highest priority",
  title: "Title A–Z",
};

/** Reads a JSON answer, or throws the problem+json it carries. */
async function json<T>(response: Response, schema: z.ZodType<T>): Promise<T> {
  if (!response.ok) {
    throw await ApiProblem.from(response);
  }
  return schema.parse(await response.json());
}

export function tasksApi(auth: AuthClient) {
  const send = (path: string, method: string, body?: unknown, etag?: string) =>
    auth.apiFetch(path, {
      method,
      headers: {
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(etag ? { "If-Match": etag } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  return {
    async list(filters: TaskFilters, cursor: string | null): Promise<TaskPage> {
      const query = new URLSearchParams({ sort: filters.sort, limit: "20" });
      if (filters.completed) query.set("completed", filters.completed);
      if (filters.priority) query.set("priority", filters.priority);
      if (filters.q?.trim()) query.set("q", filters.q.trim());
      if (cursor) query.set("cursor", cursor);
      return json(await auth.apiFetch(`/api/tasks?${query}`), pageSchema);
    },

    async get(id: string): Promise<Task> {
      return json(await auth.apiFetch(`/api/tasks/${encodeURIComponent(id)}`), taskSchema);
    },

    async create(draft: TaskDraft): Promise<Task> {
      return json(await send("/api/tasks", "POST", draft), taskSchema);
    },

    /** A merge patch guarded by the version the user saw (412 if it changed meanwhile). */
    async update(task: Task, patch: Partial<TaskDraft> & { completed?: boolean }): Promise<Task> {
      const path = `/api/tasks/${encodeURIComponent(task.id)}`;
      return json(await send(path, "PATCH", patch, `"${task.version}"`), taskSchema);
    },

    async remove(task: Task): Promise<void> {
      const path = `/api/tasks/${encodeURIComponent(task.id)}`;
      const response = await send(path, "DELETE", undefined, `"${task.version}"`);
      if (!response.ok && response.status !== 404) {
        throw await ApiProblem.from(response);
      }
    },
  };
}

export type TasksApi = ReturnType<typeof tasksApi>;
