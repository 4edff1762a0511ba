// The signed-in user's own account (docs/http-api.md, "auth-service"): sessions, password,
// deletion. Answers are checked with zod at the edge.
import { z } from "zod";

import type { AuthClient } from "../auth/client";
import { ApiProblem } from "../auth/problem";

const sessionSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  last_used_at: z.string(),
  expires_at: z.string(),
  user_agent: z.string().nullable(),
  ip: z.string().nullable(),
  current: z.boolean(),
});
export type SessionInfo = z.infer<typeof sessionSchema>;

async function noContent(response: Response): Promise<void> {
  if (!response.ok) {
    throw await ApiProblem.from(response);
  }
}

export function accountApi(auth: AuthClient) {
  const post = (path: string, method: string, body: unknown) =>
    auth.apiFetch(path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  return {
    async sessions(): Promise<SessionInfo[]> {
      const response = await auth.apiFetch("/api/auth/sessions");
      if (!response.ok) {
        throw await ApiProblem.from(response);
      }
      return z.object({ items: z.array(sessionSchema) }).parse(await response.json()).items;
    },

    async revokeSession(id: string): Promise<void> {
      await noContent(
        await auth.apiFetch(`/api/auth/sessions/${encodeURIComponent(id)}`, { method: "DELETE" }),
      );
    },

    async changePassword(current_password: string, new_password: string): Promise<void> {
      await noContent(await post("/api/auth/password", "POST", { current_password, new_password }));
    },

    async deleteAccount(password: string): Promise<void> {
      await noContent(await post("/api/auth/account", "DELETE", { password }));
    },
  };
}
