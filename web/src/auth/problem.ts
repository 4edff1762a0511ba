// The API's errors as one typed class. Every error of both services is RFC 9457
// `application/problem+json` (docs/http-api.md, "Errors"); `ApiProblem.from` reads one with zod,
// and still gives a typed error when a proxy or an outage answers something else (a 502 page, an
// empty body), so callers never crash on a body they did not expect.
import { z } from "zod";

export type FieldError = { field: string; message: string };

const problemSchema = z.object({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.number().int().optional(),
  detail: z.string().nullish(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).nullish(),
  request_id: z.string().nullish(),
});

export type ApiProblemInit = {
  status: number;
  type?: string;
  title?: string;
  detail?: string;
  errors?: FieldError[];
  retryAfterSecs?: number;
  requestId?: string;
};

/** A refused request: the problem+json the API answered, and its `Retry-After` (seconds). */
export class ApiProblem extends Error {
  readonly status: number;
  /** `urn:taskgate:problem:<slug>`, stable to match on; `about:blank` when the body had none. */
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** Field errors (`errors[].field`): on 422 validation errors and 400 bad query parameters. */
  readonly errors: FieldError[];
  /** Whole seconds to wait, from the `Retry-After` header (429 and 503 carry it). */
  readonly retryAfterSecs: number | undefined;
  readonly requestId: string | undefined;

  constructor(init: ApiProblemInit, options?: { cause?: unknown }) {
    const title = init.title ?? `Request failed (HTTP ${init.status})`;
    super(init.detail ?? title, options);
    this.name = "ApiProblem";
    this.status = init.status;
    this.type = init.type ?? "about:blank";
    this.title = title;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.retryAfterSecs = init.retryAfterSecs;
    this.requestId = init.requestId;
  }

  /** The slug of `urn:taskgate:problem:<slug>`, or undefined for any other type. */
  get slug(): string | undefined {
    const prefix = "urn:taskgate:problem:";
    return this.type.startsWith(prefix) ? this.type.slice(prefix.length) : undefined;
  }

  /**
   * Reads a failed response as a problem. Never throws for an odd body: one that is not
   * problem+json (or not JSON at all) gives a problem with the response's status only.
   */
  static async from(response: Response, now: () => number = Date.now): Promise<ApiProblem> {
    const retryAfterSecs = parseRetryAfter(response.headers.get("Retry-After"), now());
    const requestId = response.headers.get("X-Request-Id") ?? undefined;
    let body: unknown;
    try {
      const text = await response.text();
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a proxy's error page): a problem with the status only.
    }
    const parsed = problemSchema.safeParse(body);
    if (!parsed.success) {
      return new ApiProblem({ status: response.status, retryAfterSecs, requestId });
    }
    const problem = parsed.data;
    return new ApiProblem({
      // The status line is the truth; a body's `status` that disagrees (a proxy's) is ignored.
      status: response.status,
      type: problem.type,
      title: problem.title,
      detail: problem.detail ?? undefined,
      errors: problem.errors ?? [],
      retryAfterSecs,
      requestId: problem.request_id ?? requestId,
    });
  }
}

/**
 * The session is over (the refresh cookie was refused twice, or a fresh access token was
 * refused): the client is now signed out with reason "session-ended", and the user must sign in
 * again. `apiFetch` throws this; `cause` is the API's own answer when there was one.
 */
export class SessionEndedError extends ApiProblem {
  constructor(options?: { cause?: unknown }) {
    super(
      {
        status: 401,
        type: "urn:taskgate:problem:session-ended",
        title: "Your session has ended",
        detail: "Please sign in again.",
      },
      options,
    );
    this.name = "SessionEndedError";
  }
}

/** A 2xx answer whose body is not what the API documents (checked with zod at the edge). */
export class MalformedResponseError extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`Malformed ${what} from the server`, options);
    this.name = "MalformedResponseError";
  }
}

/**
 * `Retry-After` as whole seconds (RFC 9110 §10.2.3): delta-seconds, or an HTTP date counted
 * from `nowMs`. Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date names its day and month ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone
  // would take "-5" for a year.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}
