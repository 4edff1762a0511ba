// The auth wrapper against a fake server, fake Web Locks, fake BroadcastChannels and fake
// timers: deterministic, no real time passes.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import {
  createAuthClient,
  LOCK_TIMEOUT_MS,
  type AuthClient,
  type AuthState,
} from "./client";
import { ApiProblem, MalformedResponseError, SessionEndedError } from "./problem";
import {
  alice,
  bob,
  ChannelHub,
  deferred,
  FakeLocks,
  FakeServer,
  FakeVisibility,
  json,
  noContent,
  problem,
  tokens,
} from "./test-fakes";

const REFRESH = "/api/auth/refresh";
const SIGN_IN = "/api/auth/sign-in";
const SIGN_UP = "/api/auth/sign-up";
const SIGN_OUT = "/api/auth/sign-out";
const TASKS = "/api/tasks";

const clients: AuthClient[] = [];

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  for (const client of clients.splice(0)) client.dispose();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

type TabOptions = {
  server?: FakeServer;
  locks?: FakeLocks | null;
  hub?: ChannelHub;
  random?: number;
};

/** One tab: a client and its fakes. Tabs of one browser share server, locks and hub. */
function tab(options: TabOptions = {}) {
  const locks = options.locks === undefined ? new FakeLocks() : options.locks;
  const server = options.server ?? new FakeServer(locks);
  const hub = options.hub ?? new ChannelHub();
  const visibility = new FakeVisibility();
  const client = createAuthClient({
    fetch: server.fetch,
    locks,
    channel: hub.factory,
    random: () => options.random ?? 0.5,
    visibility,
  });
  clients.push(client);
  const states: AuthState[] = [];
  client.subscribe((state) => states.push(state));
  return { client, server, locks, hub, visibility, states };
}

/** Signs the tab in with `token` (expires_in seconds). */
async function signedIn(t: ReturnType<typeof tab>, token = "at-1", expiresIn = 900) {
  t.server.on(SIGN_IN, () => tokens(token, expiresIn));
  await t.client.signIn(alice.email, "correct horse battery");
  expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
}

/** The tasks API: 200 for `valid` tokens, 401 invalid-token for any other. */
function tasksAccepting(server: FakeServer, ...valid: string[]) {
  server.on(TASKS, (call) => {
    const token = call.headers.get("Authorization")?.replace(/^Bearer /, "");
    return token && valid.includes(token) ? json(200, { items: [] }) : problem(401, "invalid-token");
  });
}

type Outcome<T> = { value: T; error?: undefined } | { value?: undefined; error: unknown };

/** Lets fake time run (retry waits, lock timeouts) until `promise` settles; never rejects. */
async function settle<T>(promise: Promise<T>, ms = 5_000): Promise<Outcome<T>> {
  const outcome = promise.then(
    (value): Outcome<T> => ({ value }),
    (error: unknown): Outcome<T> => ({ error }),
  );
  await vi.advanceTimersByTimeAsync(ms);
  return outcome;
}

/** Runs pending promise callbacks without moving fake time. */
async function flush() {
  await vi.advanceTimersByTimeAsync(0);
}

describe("restore", () => {
  it("signs in with one cookie-mode refresh", async () => {
    const t = tab();
    t.server.on(REFRESH, () => tokens("at-1"));
    expect(t.client.getState()).toEqual({ status: "restoring" });

    await t.client.restore();

    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
    const [call, ...more] = t.server.calls;
    expect(more).toHaveLength(0);
    expect(call).toMatchObject({ path: REFRESH, method: "POST", body: "{}", credentials: "same-origin" });
    expect(call?.headers.get("Content-Type")).toBe("application/json");
    expect(call?.headers.has("Authorization")).toBe(false);
  });

  it("a refused cookie (401 twice) leaves it signed-out without a reason", async () => {
    const t = tab();
    t.server.on(REFRESH, () => problem(401, "invalid-refresh-token"));

    const outcome = await settle(t.client.restore());

    expect(outcome.error).toBeUndefined();
    expect(t.client.getState()).toEqual({ status: "signed-out" });
    expect(t.server.callsTo(REFRESH)).toHaveLength(2);
  });

  it("a lost race at page load (401, then 200 with the winner's cookie) signs in", async () => {
    const t = tab();
    t.server.sequence(REFRESH, () => problem(401, "invalid-refresh-token"), () => tokens("at-2"));

    await settle(t.client.restore());

    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
    expect(t.states.map((state) => state.status)).toEqual(["signed-in"]);
  });

  it("retries a 503 and signs in when the service is back", async () => {
    const t = tab();
    t.server.sequence(REFRESH, () => problem(503, "busy", {}, { "Retry-After": "1" }), () => tokens("at-1"));

    const pending = t.client.restore();
    await flush();
    expect(t.client.getState()).toEqual({ status: "restoring" });
    await settle(pending);

    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
    expect(t.server.callsTo(REFRESH)).toHaveLength(2);
  });

  it("gives up after its retries when the service stays unreachable: signed-out, no crash", async () => {
    const t = tab();
    t.server.on(REFRESH, () => Promise.reject(new TypeError("Failed to fetch")));

    const outcome = await settle(t.client.restore(), 10_000);

    expect(outcome.error).toBeUndefined();
    expect(t.client.getState()).toEqual({ status: "signed-out" });
    expect(t.server.callsTo(REFRESH)).toHaveLength(4);
  });

  it("a malformed token response is an error, not a crash (zod at the edge)", async () => {
    const t = tab();
    t.server.on(REFRESH, () => json(200, { access_token: "at-1", token_type: "Bearer", expires_in: "900" }));

    const outcome = await settle(t.client.restore(), 10_000);

    expect(outcome.error).toBeUndefined();
    expect(t.client.getState()).toEqual({ status: "signed-out" });
  });

  it("makes apiFetch wait for it", async () => {
    const t = tab();
    const answer = deferred<Response>();
    t.server.on(REFRESH, () => answer.promise);
    tasksAccepting(t.server, "at-1");

    const restoring = t.client.restore();
    const request = t.client.apiFetch(TASKS);
    await flush();
    expect(t.server.callsTo(TASKS)).toHaveLength(0);
    answer.resolve(tokens("at-1"));
    await restoring;

    expect((await request).status).toBe(200);
  });
});

describe("apiFetch", () => {
  it("attaches the bearer token and keeps the caller's method, headers and body", async () => {
    const t = tab();
    await signedIn(t);
    tasksAccepting(t.server, "at-1");

    const response = await t.client.apiFetch(TASKS, {
      method: "POST",
      headers: { "Content-Type": "application/json", "If-Match": '"v1"' },
      body: '{"title":"x"}',
    });

    expect(response.status).toBe(200);
    const call = t.server.callsTo(TASKS)[0];
    expect(call?.headers.get("Authorization")).toBe("Bearer at-1");
    expect(call?.headers.get("If-Match")).toBe('"v1"');
    expect(call).toMatchObject({ method: "POST", body: '{"title":"x"}' });
  });

  it("never sends the token to another origin", async () => {
    const t = tab();
    await signedIn(t);
    const before = t.server.calls.length;

    for (const url of ["https://evil.example/api", "//evil.example/api", "api/tasks"]) {
      await expect(t.client.apiFetch(url)).rejects.toBeInstanceOf(TypeError);
    }
    expect(t.server.calls.length).toBe(before);
  });

  it("on a 401 refreshes once and retries once with the new token", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => tokens("at-2"));
    tasksAccepting(t.server, "at-2");

    const outcome = await settle(t.client.apiFetch(TASKS, { method: "PATCH", body: '{"title":"y"}' }));

    expect(outcome.value?.status).toBe(200);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
    const calls = t.server.callsTo(TASKS);
    expect(calls.map((call) => call.headers.get("Authorization"))).toEqual(["Bearer at-1", "Bearer at-2"]);
    expect(calls[1]).toMatchObject({ method: "PATCH", body: '{"title":"y"}' });
    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
  });

  it("single flight: five concurrent 401s share one refresh", async () => {
    const t = tab();
    await signedIn(t);
    const answer = deferred<Response>();
    t.server.on(REFRESH, () => answer.promise);
    tasksAccepting(t.server, "at-2");

    const requests = Array.from({ length: 5 }, () => t.client.apiFetch(TASKS));
    await flush();
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
    answer.resolve(tokens("at-2"));
    const responses = await Promise.all(requests);

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
    expect(t.server.callsTo(TASKS)).toHaveLength(10);
  });

  it("a request answered 401 after another caller's refresh retries with that token, without refreshing", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => tokens("at-2"));
    const slow = deferred<Response>();
    let first = true;
    t.server.on(TASKS, (call) => {
      if (first) {
        first = false;
        return slow.promise;
      }
      return call.headers.get("Authorization") === "Bearer at-2"
        ? json(200, {})
        : problem(401, "invalid-token");
    });

    const late = t.client.apiFetch(TASKS);
    await flush();
    expect((await settle(t.client.apiFetch(TASKS))).value?.status).toBe(200);
    slow.resolve(problem(401, "invalid-token"));

    expect((await settle(late)).value?.status).toBe(200);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
  });

  it("no refresh loop: a 401 after a successful refresh ends the session (signed-out, session-ended)", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => tokens("at-2"));
    t.server.on(TASKS, () => problem(401, "invalid-token"));

    const outcome = await settle(t.client.apiFetch(TASKS), 60_000);

    expect(outcome.error).toBeInstanceOf(SessionEndedError);
    expect((outcome.error as SessionEndedError).status).toBe(401);
    expect((outcome.error as SessionEndedError).cause).toBeInstanceOf(ApiProblem);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
    expect(t.server.callsTo(TASKS)).toHaveLength(2);
    expect(t.client.getState()).toEqual({ status: "signed-out", reason: "session-ended" });

    // Signed out: the next call sends nothing at all.
    await expect(t.client.apiFetch(TASKS)).rejects.toBeInstanceOf(SessionEndedError);
    expect(t.server.callsTo(TASKS)).toHaveLength(2);
  });

  it("a refresh refused twice (401, 401) ends the session: signed-out, session-ended", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => problem(401, "invalid-refresh-token"));
    tasksAccepting(t.server);

    const outcome = await settle(t.client.apiFetch(TASKS));

    expect(outcome.error).toBeInstanceOf(SessionEndedError);
    expect(t.server.callsTo(REFRESH)).toHaveLength(2);
    expect(t.server.callsTo(TASKS)).toHaveLength(1);
    expect(t.client.getState()).toEqual({ status: "signed-out", reason: "session-ended" });
  });

  it("a refresh that lost a race (401, then 200) keeps the session and retries the request", async () => {
    const t = tab();
    await signedIn(t);
    t.server.sequence(REFRESH, () => problem(401, "invalid-refresh-token"), () => tokens("at-2"));
    tasksAccepting(t.server, "at-2");

    const outcome = await settle(t.client.apiFetch(TASKS));

    expect(outcome.value?.status).toBe(200);
    expect(t.server.callsTo(REFRESH)).toHaveLength(2);
    expect(t.states.some((state) => state.status === "signed-out")).toBe(false);
    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
  });

  it("a refresh that fails for another reason (503) is thrown as it is and the session stays", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => problem(503, "busy", {}, { "Retry-After": "3" }));
    tasksAccepting(t.server);

    const outcome = await settle(t.client.apiFetch(TASKS));

    expect(outcome.error).toBeInstanceOf(ApiProblem);
    expect(outcome.error).not.toBeInstanceOf(SessionEndedError);
    expect((outcome.error as ApiProblem).status).toBe(503);
    expect((outcome.error as ApiProblem).retryAfterSecs).toBe(3);
    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
  });

  it("a malformed refresh answer is a MalformedResponseError and the session stays", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => json(200, { access_token: "at-2", token_type: "Bearer", expires_in: 900 }));
    tasksAccepting(t.server);

    const outcome = await settle(t.client.apiFetch(TASKS));

    expect(outcome.error).toBeInstanceOf(MalformedResponseError);
    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
  });

  it("signed out, it throws SessionEndedError and sends nothing", async () => {
    const t = tab();
    t.server.on(REFRESH, () => problem(401, "invalid-refresh-token"));
    await settle(t.client.restore());
    const before = t.server.calls.length;

    await expect(t.client.apiFetch(TASKS)).rejects.toBeInstanceOf(SessionEndedError);
    expect(t.server.calls.length).toBe(before);
  });
});

describe("Web Locks", () => {
  it("holds the lock only around the refresh request, and for the race retry takes it again", async () => {
    const t = tab();
    await signedIn(t);
    t.server.sequence(REFRESH, () => problem(401, "invalid-refresh-token"), () => tokens("at-2"));
    tasksAccepting(t.server, "at-2");

    await settle(t.client.apiFetch(TASKS));

    expect(t.server.callsTo(REFRESH).map((call) => call.lockHeld)).toEqual([true, true]);
    expect(t.server.callsTo(TASKS).map((call) => call.lockHeld)).toEqual([false, false]);
    expect(t.locks?.requests).toBe(2);
    expect(t.locks?.isHeld()).toBe(false);
  });

  it("waits for the lock while another tab holds it", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => tokens("at-2"));
    tasksAccepting(t.server, "at-2");
    const release = t.locks!.holdElsewhere();

    const request = t.client.apiFetch(TASKS);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(t.server.callsTo(REFRESH)).toHaveLength(0);
    release();

    expect((await settle(request)).value?.status).toBe(200);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
  });

  it("on a lock timeout refreshes anyway, after LOCK_TIMEOUT_MS and not before", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => tokens("at-2"));
    tasksAccepting(t.server, "at-2");
    t.locks!.holdElsewhere(); // a frozen tab that never lets go

    const outcome = settle(t.client.apiFetch(TASKS), 0);
    await vi.advanceTimersByTimeAsync(LOCK_TIMEOUT_MS - 1);
    expect(t.server.callsTo(REFRESH)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);

    expect((await outcome).value?.status).toBe(200);
    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
  });

  it("runs without navigator.locks where there is none", async () => {
    const t = tab({ locks: null });
    await signedIn(t);
    t.server.on(REFRESH, () => tokens("at-2"));
    tasksAccepting(t.server, "at-2");

    expect((await settle(t.client.apiFetch(TASKS))).value?.status).toBe(200);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
  });

  for (const withLocks of [true, false]) {
    it(`two tabs refreshing at the same moment, 20 times, are never signed out (${withLocks ? "with" : "without"} locks)`, async () => {
      // The server's cookie rotation: each refresh presents the jar's cookie as it was when sent;
      // a used one within the grace is 401 (the session lives), the current one rotates.
      const locks = withLocks ? new FakeLocks() : null;
      const server = new FakeServer(locks);
      const hub = new ChannelHub();
      let jar = 0;
      let issued = 0;
      server.on(REFRESH, async () => {
        const sent = jar;
        await new Promise((resolve) => setTimeout(resolve, 50)); // the round trip
        if (sent !== jar) return problem(401, "invalid-refresh-token");
        jar += 1;
        issued += 1;
        return tokens(`at-${issued}`);
      });
      const a = tab({ server, locks, hub, random: 0.3 });
      const b = tab({ server, locks, hub, random: 0.7 });
      await settle(Promise.all([a.client.restore(), b.client.restore()]));

      for (let round = 0; round < 20; round += 1) {
        a.visibility.set(false);
        b.visibility.set(false);
        vi.setSystemTime(Date.now() + 900_000); // both tokens are due (the tabs slept)
        a.visibility.set(true);
        b.visibility.set(true);
        await vi.advanceTimersByTimeAsync(2_000);
      }

      for (const t of [a, b]) {
        expect(t.states.some((state) => state.status === "signed-out")).toBe(false);
        expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
      }
      expect(issued).toBe(42);
    });
  }
});

describe("proactive refresh", () => {
  for (const random of [0, 0.5, 0.999]) {
    it(`fires about 60 s before expiry, within the jitter bounds (random ${random})`, async () => {
      const t = tab({ random });
      await signedIn(t, "at-1", 900);
      t.server.on(REFRESH, () => tokens("at-2", 900));
      const due = 900_000 - 60_000 - random * 5_000;
      expect(due).toBeGreaterThanOrEqual(835_000);
      expect(due).toBeLessThanOrEqual(840_000);

      await vi.advanceTimersByTimeAsync(Math.ceil(due) - 1);
      expect(t.server.callsTo(REFRESH)).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(t.server.callsTo(REFRESH)).toHaveLength(1);

      // ...and the next one is scheduled from the new token.
      await vi.advanceTimersByTimeAsync(Math.ceil(due));
      expect(t.server.callsTo(REFRESH)).toHaveLength(2);
    });
  }

  it("with a 60 s token refreshes about half-way, not in a loop", async () => {
    const t = tab({ random: 0.5 });
    await signedIn(t, "at-1", 60);
    t.server.on(REFRESH, () => tokens("at-n", 60));

    await vi.advanceTimersByTimeAsync(27_499);
    expect(t.server.callsTo(REFRESH)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10 * 27_500);
    expect(t.server.callsTo(REFRESH)).toHaveLength(11);
  });

  it("a proactive refresh that fails for the network is retried, and the session stays", async () => {
    const t = tab({ random: 0 });
    await signedIn(t, "at-1", 900);
    t.server.sequence(REFRESH, () => Promise.reject(new TypeError("Failed to fetch")), () => tokens("at-2"));
    tasksAccepting(t.server, "at-2");

    await vi.advanceTimersByTimeAsync(840_000);
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(t.server.callsTo(REFRESH)).toHaveLength(2);

    expect((await t.client.apiFetch(TASKS)).status).toBe(200);
  });

  it("a tab that becomes visible refreshes when its token is near expiry, and not otherwise", async () => {
    const t = tab({ random: 0 });
    await signedIn(t, "at-1", 900);
    t.server.on(REFRESH, () => tokens("at-2", 900));

    t.visibility.set(false);
    vi.setSystemTime(Date.now() + 600_000); // 5 minutes left: not near expiry
    t.visibility.set(true);
    await flush();
    expect(t.server.callsTo(REFRESH)).toHaveLength(0);

    t.visibility.set(false);
    // The machine slept: the clock moved on, the throttled timer has not fired.
    vi.setSystemTime(Date.now() + 250_000); // 50 s left
    await flush();
    expect(t.server.callsTo(REFRESH)).toHaveLength(0);
    t.visibility.set(true);
    await flush();
    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
  });

  it("a tab that becomes visible with an expired token refreshes", async () => {
    const t = tab({ random: 0 });
    await signedIn(t, "at-1", 900);
    t.server.on(REFRESH, () => tokens("at-2", 900));
    tasksAccepting(t.server, "at-2");

    t.visibility.set(false);
    vi.setSystemTime(Date.now() + 3_600_000);
    t.visibility.set(true);
    await flush();

    expect(t.server.callsTo(REFRESH)).toHaveLength(1);
    expect((await t.client.apiFetch(TASKS)).status).toBe(200);
    expect(t.server.callsTo(TASKS)).toHaveLength(1);
  });
});

describe("across tabs", () => {
  it("sign-out reaches another tab: it drops its token and is signed-out with reason other-tab", async () => {
    const locks = new FakeLocks();
    const server = new FakeServer(locks);
    const hub = new ChannelHub();
    server.on(REFRESH, () => tokens("at-b"));
    server.on(SIGN_OUT, () => noContent());
    tasksAccepting(server, "at-a", "at-b");
    const a = tab({ server, locks, hub });
    const b = tab({ server, locks, hub });
    await settle(b.client.restore());
    await signedIn(a, "at-a");
    await flush();
    expect(b.client.getState()).toEqual({ status: "signed-in", user: alice });

    await a.client.signOut();

    const signOut = server.callsTo(SIGN_OUT)[0];
    expect(signOut?.headers.get("Authorization")).toBe("Bearer at-a");
    expect(signOut).toMatchObject({ method: "POST", body: "{}" });
    expect(a.client.getState()).toEqual({ status: "signed-out", reason: "signed-out" });
    await flush(); // a later task, well within 1 s
    expect(b.client.getState()).toEqual({ status: "signed-out", reason: "other-tab" });

    const before = server.calls.length;
    await expect(b.client.apiFetch(TASKS)).rejects.toBeInstanceOf(SessionEndedError);
    expect(server.calls.length).toBe(before);
  });

  it("sign-in reaches a signed-out tab, which restores", async () => {
    const locks = new FakeLocks();
    const server = new FakeServer(locks);
    const hub = new ChannelHub();
    let cookie = false;
    server.on(REFRESH, () => (cookie ? tokens("at-b") : problem(401, "invalid-refresh-token")));
    const a = tab({ server, locks, hub });
    const b = tab({ server, locks, hub });
    await settle(b.client.restore());
    expect(b.client.getState()).toEqual({ status: "signed-out" });

    server.on(SIGN_IN, () => {
      cookie = true;
      return tokens("at-a");
    });
    await a.client.signIn(alice.email, "correct horse battery");
    await settle(Promise.resolve(), 1_000);

    expect(b.client.getState()).toEqual({ status: "signed-in", user: alice });
  });

  it("a signed-out tab whose restore after another tab's sign-in fails keeps its reason", async () => {
    const hub = new ChannelHub();
    const t = tab({ hub });
    await signedIn(t);
    t.server.on(REFRESH, () => problem(401, "invalid-refresh-token"));
    tasksAccepting(t.server);
    await settle(t.client.apiFetch(TASKS));
    expect(t.client.getState()).toEqual({ status: "signed-out", reason: "session-ended" });

    hub.factory("taskgate-auth").postMessage({ type: "signed-in" });
    await settle(Promise.resolve(), 1_000);

    expect(t.server.callsTo(REFRESH)).toHaveLength(4);
    expect(t.client.getState()).toEqual({ status: "signed-out", reason: "session-ended" });
  });

  it("another tab's sign-in as someone else switches a signed-in tab, through signed-out", async () => {
    const locks = new FakeLocks();
    const server = new FakeServer(locks);
    const hub = new ChannelHub();
    const a = tab({ server, locks, hub });
    const b = tab({ server, locks, hub });
    await signedIn(b, "at-b");
    server.on(REFRESH, () => tokens("at-bob", 900, bob));
    server.on(SIGN_IN, () => tokens("at-a", 900, bob));
    await a.client.signIn(bob.email, "another good password");
    await settle(Promise.resolve(), 1_000);

    expect(b.states.map((state) => state.status)).toEqual(["signed-in", "signed-out", "signed-in"]);
    expect(b.client.getState()).toEqual({ status: "signed-in", user: bob });
  });

  it("a refresh answered after sign-out does not bring the session back", async () => {
    const t = tab();
    await signedIn(t);
    const answer = deferred<Response>();
    t.server.on(REFRESH, () => answer.promise);
    t.server.on(SIGN_OUT, () => noContent());
    tasksAccepting(t.server);

    const request = settle(t.client.apiFetch(TASKS), 0);
    await flush();
    await t.client.signOut();
    answer.resolve(tokens("at-2"));

    expect((await request).error).toBeInstanceOf(SessionEndedError);
    expect(t.client.getState()).toEqual({ status: "signed-out", reason: "signed-out" });
  });

  it("sign-out with an expired access token refreshes, so the session really ends", async () => {
    const t = tab();
    await signedIn(t);
    t.server.on(REFRESH, () => tokens("at-2"));
    t.server.on(SIGN_OUT, (call) =>
      call.headers.get("Authorization") === "Bearer at-2" ? noContent() : problem(401, "invalid-token"),
    );

    await settle(t.client.signOut());

    expect(t.server.callsTo(SIGN_OUT).map((call) => call.headers.get("Authorization"))).toEqual([
      "Bearer at-1",
      "Bearer at-2",
    ]);
    expect(t.client.getState()).toEqual({ status: "signed-out", reason: "signed-out" });
  });

  it("sign-out signs this tab and the others out even when the network fails", async () => {
    const hub = new ChannelHub();
    const t = tab({ hub });
    await signedIn(t);
    t.server.on(SIGN_OUT, () => Promise.reject(new TypeError("Failed to fetch")));

    await t.client.signOut();

    expect(t.client.getState()).toEqual({ status: "signed-out", reason: "signed-out" });
    expect(hub.posted).toContainEqual({ type: "signed-out" });
  });

  it("ignores malformed broadcasts", async () => {
    const hub = new ChannelHub();
    const t = tab({ hub });
    await signedIn(t);
    const other = hub.factory("taskgate-auth");

    other.postMessage({ type: "sign-out-everyone" });
    other.postMessage("signed-out");
    await flush();

    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
  });
});

describe("sign-in and sign-up", () => {
  it("sign-in asks for cookie delivery and sends no name", async () => {
    const t = tab();
    t.server.on(SIGN_IN, () => tokens("at-1"));

    await t.client.signIn("alice@example.org", "correct horse battery");

    const call = t.server.callsTo(SIGN_IN)[0];
    expect(JSON.parse(call?.body ?? "")).toEqual({
      email: "alice@example.org",
      password: "correct horse battery",
      refresh_token_delivery: "cookie",
    });
    expect(call?.headers.get("Content-Type")).toBe("application/json");
    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
  });

  it("sign-up sends the name when given", async () => {
    const t = tab();
    t.server.on(SIGN_UP, () => json(201, { access_token: "at-1", token_type: "Bearer", expires_in: 900, user: alice }));

    await t.client.signUp("alice@example.org", "correct horse battery", "Alice");

    expect(JSON.parse(t.server.callsTo(SIGN_UP)[0]?.body ?? "")).toEqual({
      email: "alice@example.org",
      password: "correct horse battery",
      name: "Alice",
      refresh_token_delivery: "cookie",
    });
    expect(t.client.getState()).toEqual({ status: "signed-in", user: alice });
  });

  it("sign-up surfaces field errors as an ApiProblem", async () => {
    const t = tab();
    t.server.on(SIGN_UP, () =>
      problem(422, "validation-error", {
        title: "The request is not valid",
        detail: "password is too common",
        errors: [
          { field: "password", message: "this password is too common" },
          { field: "email", message: "not an email address" },
        ],
      }),
    );

    const error = await t.client.signUp("x", "password1").catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiProblem);
    const problemError = error as ApiProblem;
    expect(problemError.status).toBe(422);
    expect(problemError.type).toBe("urn:taskgate:problem:validation-error");
    expect(problemError.detail).toBe("password is too common");
    expect(problemError.errors).toEqual([
      { field: "password", message: "this password is too common" },
      { field: "email", message: "not an email address" },
    ]);
    expect(t.client.getState()).toEqual({ status: "restoring" });
  });

  it("sign-in surfaces a 429's Retry-After", async () => {
    const t = tab();
    t.server.on(SIGN_IN, () => problem(429, "throttled", {}, { "Retry-After": "30" }));

    const error = await t.client.signIn("a@example.org", "wrong password").catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiProblem);
    expect((error as ApiProblem).status).toBe(429);
    expect((error as ApiProblem).retryAfterSecs).toBe(30);
  });

  it("sign-up surfaces a 503's Retry-After", async () => {
    const t = tab();
    t.server.on(SIGN_UP, () => problem(503, "busy", {}, { "Retry-After": "2" }));

    const error = await t.client.signUp("a@example.org", "long enough pw").catch((caught: unknown) => caught);

    expect((error as ApiProblem).status).toBe(503);
    expect((error as ApiProblem).retryAfterSecs).toBe(2);
  });

  for (const [what, body] of [
    ["a missing user", { access_token: "at-1", token_type: "Bearer", expires_in: 900 }],
    ["a wrong token type", { access_token: "at-1", token_type: "MAC", expires_in: 900, user: alice }],
    ["a negative lifetime", { access_token: "at-1", token_type: "Bearer", expires_in: -1, user: alice }],
    ["an empty token", { access_token: "", token_type: "Bearer", expires_in: 900, user: alice }],
    ["not an object", ["at-1"]],
  ] as const) {
    it(`zod rejects a token response with ${what}: MalformedResponseError, state unchanged`, async () => {
      const t = tab();
      t.server.on(SIGN_IN, () => json(200, body));

      const error = await t.client.signIn("a@example.org", "pw pw pw pw").catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(MalformedResponseError);
      expect(t.client.getState()).toEqual({ status: "restoring" });
    });
  }

  it("a sign-in answer that is not JSON is a MalformedResponseError", async () => {
    const t = tab();
    t.server.on(SIGN_IN, () => new Response("<html>proxy</html>", { status: 200 }));

    await expect(t.client.signIn("a@example.org", "pw pw pw pw")).rejects.toBeInstanceOf(MalformedResponseError);
  });
});

describe("secrets and lifecycle", () => {
  it("keeps the token out of storage and the console, and errors do not quote it", async () => {
    const setItem = vi.spyOn(Storage.prototype, "setItem");
    const logged = (["log", "info", "warn", "error", "debug"] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => {}),
    );
    const t = tab();
    t.server.on(SIGN_IN, () => tokens("secret-access-token"));
    t.server.sequence(
      REFRESH,
      () => json(200, { access_token: "secret-refreshed-token", token_type: "Bearer", expires_in: "soon" }),
      () => tokens("secret-refreshed-token"),
    );
    t.server.on(SIGN_OUT, () => noContent());
    tasksAccepting(t.server, "secret-refreshed-token");

    await t.client.signIn("a@example.org", "secret-password");
    const malformed = await settle(t.client.apiFetch(TASKS));
    await settle(t.client.apiFetch(TASKS));
    await t.client.signOut();

    expect(String(malformed.error)).not.toContain("secret");
    expect(setItem).not.toHaveBeenCalled();
    expect(localStorage.length + sessionStorage.length).toBe(0);
    for (const spy of logged) expect(spy).not.toHaveBeenCalled();
    expect(JSON.stringify(t.client.getState())).not.toContain("secret");
  });

  it("dispose stops timers, the channel and the visibility listener", async () => {
    const hub = new ChannelHub();
    const t = tab({ hub });
    await signedIn(t);
    expect(t.visibility.listenerCount).toBe(1);
    expect(hub.channels.size).toBe(1);

    t.client.dispose();
    await vi.advanceTimersByTimeAsync(3_600_000);

    expect(t.server.callsTo(REFRESH)).toHaveLength(0);
    expect(t.visibility.listenerCount).toBe(0);
    expect(hub.channels.size).toBe(0);
    expect(t.states.map((state) => state.status)).toEqual(["signed-in"]);
  });

  it("getState is stable between changes, and unsubscribe stops notifications", async () => {
    const t = tab();
    const seen: AuthState[] = [];
    const unsubscribe = t.client.subscribe((state) => seen.push(state));
    const first = t.client.getState();
    expect(t.client.getState()).toBe(first);

    await signedIn(t);
    const signedInState = t.client.getState();
    expect(t.client.getState()).toBe(signedInState);
    unsubscribe();
    t.server.on(SIGN_OUT, () => noContent());
    await t.client.signOut();

    expect(seen.map((state) => state.status)).toEqual(["signed-in"]);
  });
});

describe("the browser's defaults", () => {
  it("without navigator.locks, over a real BroadcastChannel, sign-out reaches the other tab", async () => {
    vi.useRealTimers();
    const server = new FakeServer();
    server.on(SIGN_IN, () => tokens("at-a"));
    server.on(REFRESH, () => tokens("at-b"));
    server.on(SIGN_OUT, () => noContent());
    const a = createAuthClient({ fetch: server.fetch });
    const b = createAuthClient({ fetch: server.fetch });
    clients.push(a, b);

    await a.signIn(alice.email, "correct horse battery");
    await vi.waitFor(() => expect(b.getState()).toEqual({ status: "signed-in", user: alice }));
    await a.signOut();

    await vi.waitFor(() => expect(b.getState()).toEqual({ status: "signed-out", reason: "other-tab" }), {
      timeout: 1_000,
    });
  });
});
