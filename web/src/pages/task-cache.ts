// Optimistic writes on the cached task pages (TanStack Query's infinite query data): each
// helper returns new data with one task added, replaced or removed, and the page's snapshot
// is restored if the server refuses.
import type { InfiniteData } from "@tanstack/react-query";

import type { Task, TaskPage } from "../api/tasks";

export type Pages = InfiniteData<TaskPage, string | null>;

export function withTask(data: Pages | undefined, task: Task): Pages | undefined {
  if (!data) return data;
  const [first, ...rest] = data.pages;
  if (!first) return data;
  return { ...data, pages: [{ ...first, items: [task, ...first.items] }, ...rest] };
}

export function replacingTask(data: Pages | undefined, id: string, task: Task): Pages | undefined {
  if (!data) return data;
  return {
    ...data,
    pages: data.pages.map((page) => ({
      ...page,
      items: page.items.map((item) => (item.id === id ? task : item)),
    })),
  };
}

export function withoutTask(data: Pages | undefined, id: string): Pages | undefined {
  if (!data) return data;
  return {
    ...data,
    pages: data.pages.map((page) => ({
      ...page,
      items: page.items.filter((item) => item.id !== id),
    })),
  };
}
