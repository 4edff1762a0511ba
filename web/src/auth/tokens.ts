// The token response of sign-up, sign-in and refresh (docs/http-api.md, "Token response"),
// checked with zod at the edge. In cookie mode the body has no `refresh_token`: the refresh
// token is only in the HttpOnly cookie. Should one appear anyway, the schema strips it, so it
// is never kept.
import { z } from "zod";

import { MalformedResponseError } from "./problem";

export const userSchema = z.object({
  id: z.string().min(1),
  email: z.string(),
  name: z.string().nullable(),
  created_at: z.string(),
});

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  // RFC 6749 §7.1: the token type is case-insensitive.
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().int().positive(),
  user: userSchema,
});

export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/**
 * Reads a 2xx token response. A body that is not JSON or not the documented shape throws
 * MalformedResponseError, whose message and cause never include the body (it may hold a token).
 */
export async function readTokenResponse(response: Response): Promise<TokenResponse> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new MalformedResponseError("token response (not JSON)");
  }
  const parsed = tokenResponseSchema.safeParse(body);
  if (!parsed.success) {
    // Only the paths of the failing fields: zod's issues can quote the received values.
    const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "(root)");
    throw new MalformedResponseError(`token response (${[...new Set(fields)].join(", ")})`);
  }
  return parsed.data;
}
