// Reading problem+json answers and token responses at the API edge.
import { describe, expect, it } from "vitest";

import { ApiProblem, MalformedResponseError, parseRetryAfter, SessionEndedError } from "./problem";
import { readTokenResponse } from "./tokens";
import { alice, json } from "./test-fakes";

describe("ApiProblem.from", () => {
  it("reads type, title, detail, field errors, Retry-After and the request id", async () => {
    const response = new Response(
      JSON.stringify({
        type: "urn:taskgate:problem:validation-error",
        title: "The request is not valid",
        status: 422,
        detail: "title must not be empty",
        errors: [{ field: "title", message: "title must not be empty" }],
        request_id: "req-1",
      }),
      { status: 422, headers: { "Content-Type": "application/problem+json", "Retry-After": "7" } },
    );

    const problem = await ApiProblem.from(response);

    expect(problem).toBeInstanceOf(Error);
    expect(problem).toMatchObject({
      status: 422,
      type: "urn:taskgate:problem:validation-error",
      slug: "validation-error",
      title: "The request is not valid",
      detail: "title must not be empty",
      message: "title must not be empty",
      errors: [{ field: "title", message: "title must not be empty" }],
      retryAfterSecs: 7,
      requestId: "req-1",
    });
  });

  it("gives a status-only problem for a body that is not problem+json (a proxy's page)", async () => {
    const problem = await ApiProblem.from(
      new Response("<html>Bad Gateway</html>", { status: 502, headers: { "X-Request-Id": "req-2" } }),
    );

    expect(problem).toMatchObject({ status: 502, type: "about:blank", errors: [], requestId: "req-2" });
    expect(problem.detail).toBeUndefined();
    expect(problem.retryAfterSecs).toBeUndefined();
    expect(problem.title).toContain("502");
  });

  it("gives a status-only problem for an empty body and for JSON of another shape", async () => {
    expect(await ApiProblem.from(new Response(null, { status: 500 }))).toMatchObject({ status: 500, errors: [] });
    const odd = await ApiProblem.from(json(400, { errors: "not a list" }));
    expect(odd).toMatchObject({ status: 400, type: "about:blank", errors: [] });
  });

  it("takes the status from the status line, not the body", async () => {
    const problem = await ApiProblem.from(json(503, { type: "urn:taskgate:problem:busy", title: "Busy", status: 200 }));
    expect(problem.status).toBe(503);
  });

  it("SessionEndedError is an ApiProblem the UI can tell apart", () => {
    const error = new SessionEndedError();
    expect(error).toBeInstanceOf(ApiProblem);
    expect(error).toMatchObject({ status: 401, type: "urn:taskgate:problem:session-ended" });
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates, and nothing else", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("30", now)).toBe(30);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("readTokenResponse", () => {
  it("accepts the cookie-mode answer, and never keeps a refresh_token that shows up anyway", async () => {
    const parsed = await readTokenResponse(
      json(200, {
        access_token: "at-1",
        token_type: "bearer",
        expires_in: 900,
        refresh_token: "rt-should-not-be-kept",
        user: alice,
      }),
    );

    expect(parsed).toEqual({ access_token: "at-1", token_type: "bearer", expires_in: 900, user: alice });
    expect(JSON.stringify(parsed)).not.toContain("rt-should-not-be-kept");
  });

  it("names the failing fields without quoting their values", async () => {
    const error = await readTokenResponse(
      json(200, { access_token: 12345, token_type: "Bearer", expires_in: 900, user: { ...alice, id: 7 } }),
    ).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toContain("access_token");
    expect((error as Error).message).toContain("user.id");
    expect((error as Error).message).not.toContain("12345");
  });
});
