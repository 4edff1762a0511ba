// The auth fetch wrapper: the one part of the app written by hand (issue 11, "How it holds
// the session"). It keeps the session and every request that carries it:
//
// - The access token lives only in this module's closure: never in localStorage,
//   sessionStorage, a cookie or a log line. The refresh token lives only in the HttpOnly cookie
//   `taskgate_refresh`; this code never sees it ("cookie mode", docs/http-api.md).
// - `apiFetch` sends `Authorization: Bearer`, and on a 401 refreshes once and retries once. A
//   401 after that is a revoked session (another device's revoke, a password change), never a
//   reason to refresh again: no loop.
// - Refreshes are single-flight per tab (one promise shared by every caller), proactive (about
//   60 s before expiry, with jitter, and when a hidden tab comes back), and take turns across
//   tabs with the Web Lock "taskgate-refresh", because a refresh token is single use and a
//   reuse outside the server's 2 s grace ends the session (docs/tokens-and-sessions.md).
// - Sign-in and sign-out reach the other tabs through BroadcastChannel("taskgate-auth").
//
// Only a refused refresh cookie (401, twice) or a refused fresh token ends the session. A
// network error, a 5xx or a malformed answer is reported to the caller and the session stays:
// the app never signs anyone out by accident.
import { z } from "zod";

import { ApiProblem, SessionEndedError } from "./problem";
import { readTokenResponse, type TokenResponse } from "./tokens";

export type User = { id: string; email: string; name: string | null; created_at: string };
export type SignedOutReason = "signed-out" | "session-ended" | "other-tab";
export type AuthState =
  | { status: "restoring" }
  | { status: "signed-in"; user: User }
  | { status: "signed-out"; reason?: SignedOutReason };

export interface AuthClient {
  /** The current state; the same object until it changes (for useSyncExternalStore). */
  getState(): AuthState;
  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (state: AuthState) => void): () => void;
  /** On page load: one cookie-mode refresh; signed-in, or signed-out without a reason. */
  restore(): Promise<void>;
  /** Throws ApiProblem (field errors, Retry-After) or MalformedResponseError. */
  signIn(email: string, password: string): Promise<void>;
  /** Throws ApiProblem (field errors, Retry-After) or MalformedResponseError. */
  signUp(email: string, password: string, name?: string): Promise<void>;
  /** Ends the session on the server, then signed-out "signed-out" here and "other-tab" elsewhere. */
  signOut(): Promise<void>;
  /**
   * fetch for a same-origin API path, with the bearer token. Throws SessionEndedError when the
   * session is over (the state is then signed-out "session-ended"); other failures (network
   * errors, 5xx of a refresh) are thrown as they are and the session stays. A request may be
   * sent twice (the retry after a refresh), so its body must be reusable: a string, Blob,
   * FormData or URLSearchParams, not a ReadableStream.
   */
  apiFetch(path: string, init?: RequestInit): Promise<Response>;
  /** Stops timers, closes the channel, drops listeners and the token. */
  dispose(): void;
}

/** What `navigator.locks` offers, as far as this client uses it. */
export interface LockManagerLike {
  request<T>(
    name: string,
    options: { signal?: AbortSignal; mode?: "exclusive" | "shared" },
    callback: () => Promise<T>,
  ): Promise<T>;
}

/** What a BroadcastChannel offers, as far as this client uses it. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}

/** The page's visibility (document.visibilityState and its change event). */
export interface VisibilityLike {
  isVisible(): boolean;
  /** Calls `listener` when the visibility changes; returns the function that stops it. */
  onChange(listener: () => void): () => void;
}

export interface AuthDeps {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  /** null: no Web Locks (an old browser); refreshes then run without taking turns. */
  locks: LockManagerLike | null;
  /** null: no BroadcastChannel; other tabs then learn of a sign-out at their next refresh. */
  channel: (name: string) => ChannelLike | null;
  now: () => number;
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** In [0, 1), for jitter. */
  random: () => number;
  visibility: VisibilityLike | null;
}

export const LOCK_NAME = "taskgate-refresh";
export const CHANNEL_NAME = "taskgate-auth";
/** How long a refresh waits for the lock before it goes ahead without it. */
export const LOCK_TIMEOUT_MS = 10_000;
/** The proactive refresh runs this long before the access token expires (at most half its life). */
export const REFRESH_LEAD_MS = 60_000;
/** ...minus up to this much, so tabs opened together do not refresh together. */
export const REFRESH_JITTER_MS = 5_000;
/** After a refresh lost a race (401), wait this long (plus up to as much again) and retry. */
export const RACE_RETRY_DELAY_MS = 250;
/** restore() retries a failure that is not a refusal (network, 5xx) after these waits. */
export const RESTORE_RETRY_DELAYS_MS = [1_000, 2_000, 4_000] as const;
/** A failed proactive refresh is retried after 5 s, doubling up to 60 s. */
const PROACTIVE_RETRY_BASE_MS = 5_000;
const PROACTIVE_RETRY_MAX_MS = 60_000;

const REFRESH_PATH = "/api/auth/refresh";
const INVALID_TOKEN = "urn:taskgate:problem:invalid-token";

const broadcastSchema = z.object({ type: z.enum(["signed-in", "signed-out"]) });
type Broadcast = z.infer<typeof broadcastSchema>;

/** The browser's own implementations; tests replace them. */
export function browserDeps(): AuthDeps {
  const locks =
    typeof navigator !== "undefined" && "locks" in navigator && navigator.locks
      ? navigator.locks
      : null;
  return {
    // Called as a plain function: window.fetch refuses a `this` other than the window.
    fetch: (input, init) => globalThis.fetch(input, init),
    locks: locks && {
      request: <T>(
        name: string,
        options: { signal?: AbortSignal; mode?: "exclusive" | "shared" },
        callback: () => Promise<T>,
      ) => locks.request(name, options, callback) as Promise<T>,
    },
    channel: (name) => {
      if (typeof BroadcastChannel === "undefined") return null;
      const channel = new BroadcastChannel(name);
      let handler: ((event: { data: unknown }) => void) | null = null;
      return {
        postMessage: (message) => channel.postMessage(message),
        get onmessage() {
          return handler;
        },
        set onmessage(next) {
          handler = next;
          channel.onmessage = next && ((event: MessageEvent) => next({ data: event.data }));
        },
        close: () => channel.close(),
      };
    },
    now: () => Date.now(),
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    random: () => Math.random(),
    visibility:
      typeof document === "undefined"
        ? null
        : {
            isVisible: () => document.visibilityState === "visible",
            onChange: (listener) => {
              document.addEventListener("visibilitychange", listener);
              return () => document.removeEventListener("visibilitychange", listener);
            },
          },
  };
}

/** The refresh cookie was refused twice: the session is over. Internal to this module. */
class RefreshRefused extends Error {
  readonly problem: ApiProblem;
  constructor(problem: ApiProblem) {
    super("The refresh was refused");
    this.problem = problem;
  }
}

type Attempt = { ok: true; tokens: TokenResponse } | { ok: false; problem: ApiProblem };

function sameState(a: AuthState, b: AuthState): boolean {
  if (a.status === "signed-in" && b.status === "signed-in") {
    const [x, y] = [a.user, b.user];
    return x.id === y.id && x.email === y.email && x.name === y.name && x.created_at === y.created_at;
  }
  if (a.status === "signed-out" && b.status === "signed-out") return a.reason === b.reason;
  return a.status === b.status;
}

/** Only paths on this origin: the bearer token must never go to another host. */
function isSameOriginPath(path: string): boolean {
  return path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/\\");
}

export function createAuthClient(overrides: Partial<AuthDeps> = {}): AuthClient {
  const deps: AuthDeps = { ...browserDeps(), ...overrides };

  let state: AuthState = { status: "restoring" };
  const listeners = new Set<(state: AuthState) => void>();
  /** The access token: here and nowhere else. */
  let accessToken: string | null = null;
  /** When the proactive refresh is due (deps.now() clock); Infinity without a session. */
  let refreshAt = Number.POSITIVE_INFINITY;
  let refreshTimer: unknown = null;
  let proactiveFailures = 0;
  /**
   * Bumped whenever the session this tab holds changes hands (sign-in, sign-out, session end,
   * another tab's sign-out, dispose). A refresh started under an older epoch is not applied, so
   * a refresh answered after a sign-out cannot bring the session back.
   */
  let epoch = 0;
  let inflight: { epoch: number; promise: Promise<string> } | null = null;
  let restoring: Promise<void> | null = null;
  let restoreAgain = false;
  let disposed = false;

  function setState(next: AuthState): void {
    if (disposed || sameState(state, next)) return;
    state = next;
    for (const listener of [...listeners]) {
      try {
        listener(next);
      } catch (error) {
        // One faulty listener must not keep the others from hearing of the change.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => deps.setTimeout(resolve, ms));
  }

  function clearRefreshTimer(): void {
    if (refreshTimer !== null) deps.clearTimeout(refreshTimer);
    refreshTimer = null;
  }

  function setRefreshTimer(delay: number): void {
    clearRefreshTimer();
    refreshTimer = deps.setTimeout(() => {
      refreshTimer = null;
      proactiveRefresh();
    }, delay);
  }

  function endSession(reason: SignedOutReason | undefined): void {
    epoch += 1;
    accessToken = null;
    refreshAt = Number.POSITIVE_INFINITY;
    clearRefreshTimer();
    setState(reason ? { status: "signed-out", reason } : { status: "signed-out" });
  }

  /** Takes a token response: the new access token, the user, and the next proactive refresh. */
  function accept(tokens: TokenResponse): void {
    const user: User = { ...tokens.user };
    if (state.status === "signed-in" && state.user.id !== user.id) {
      // The cookie now belongs to another account (signed in from another tab). Pass through
      // signed-out, so everything cached for the previous user is dropped first.
      endSession("other-tab");
    }
    accessToken = tokens.access_token;
    proactiveFailures = 0;
    const lifetime = tokens.expires_in * 1000;
    const lead = Math.min(REFRESH_LEAD_MS, lifetime / 2);
    const delay = Math.max(1_000, lifetime - lead - deps.random() * REFRESH_JITTER_MS);
    refreshAt = deps.now() + delay;
    setRefreshTimer(delay);
    setState({ status: "signed-in", user });
  }

  /** Runs `request` holding the cross-tab lock, or without it where there is none. */
  async function withLock<T>(request: () => Promise<T>): Promise<T> {
    const locks = deps.locks;
    if (!locks) return request();
    const controller = new AbortController();
    const timer = deps.setTimeout(() => controller.abort(), LOCK_TIMEOUT_MS);
    let granted = false;
    try {
      return await locks.request(LOCK_NAME, { signal: controller.signal, mode: "exclusive" }, () => {
        granted = true;
        deps.clearTimeout(timer);
        return request();
      });
    } catch (error) {
      if (granted) throw error;
      // The lock did not come within LOCK_TIMEOUT_MS (or the lock manager failed). Refresh
      // anyway: the lock only orders the tabs, the server alone decides which use of a refresh
      // token counts. A holder that never lets go (a tab the browser froze mid-refresh, a hung
      // request) would otherwise stall every tab's refresh for good while their access tokens
      // run out. Going ahead risks what a browser without Web Locks risks: a lost race answers
      // 401 within the reuse grace, and runRefresh retries that with the winner's cookie. (Only
      // a holder whose answer is still in flight 2 s after the server took its cookie would
      // make ours a reuse that ends the session; 10 s of silence makes that the rarer harm.)
      return request();
    } finally {
      deps.clearTimeout(timer);
    }
  }

  /** One refresh request under the lock: the token response, a 401's problem, or a throw. */
  function attemptRefresh(): Promise<Attempt> {
    return withLock(async (): Promise<Attempt> => {
      const response = await deps.fetch(REFRESH_PATH, {
        method: "POST",
        // Cookie mode: JSON (the CSRF check), an empty object, and the cookie.
        headers: { "Content-Type": "application/json" },
        body: "{}",
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) return { ok: true, tokens: await readTokenResponse(response) };
      const problem = await ApiProblem.from(response, deps.now);
      if (response.status === 401) return { ok: false, problem };
      throw problem;
    });
  }

  /**
   * A cookie refresh, retried once after a 401: the first 401 may only mean another tab used
   * the cookie a moment earlier and rotated it (within the server's reuse grace the session
   * lives on, and the winner's cookie is already in the shared jar). Only a second 401 means
   * the session is over. Takes the lock again for the retry, so a winner still holding it
   * finishes first.
   */
  async function runRefresh(): Promise<TokenResponse> {
    const first = await attemptRefresh();
    if (first.ok) return first.tokens;
    await sleep(RACE_RETRY_DELAY_MS * (1 + deps.random()));
    const second = await attemptRefresh();
    if (second.ok) return second.tokens;
    throw new RefreshRefused(second.problem);
  }

  /**
   * The tab's one refresh: concurrent callers share the promise. Resolves to the new access
   * token; throws SessionEndedError when the session is over (the state is then signed-out), or
   * the transient error (network, 5xx, malformed answer) with the session kept.
   */
  function refresh(): Promise<string> {
    if (inflight && inflight.epoch === epoch) return inflight.promise;
    const started = epoch;
    const promise = (async () => {
      try {
        const tokens = await runRefresh();
        if (disposed || epoch !== started) return currentTokenOrThrow();
        accept(tokens);
        return tokens.access_token;
      } catch (error) {
        if (!(error instanceof RefreshRefused)) throw error;
        if (!disposed && epoch === started) {
          // Signed in: the session ended under the user. Restoring: there was none. Already
          // signed out (a restore after another tab's sign-in): keep the reason on screen.
          if (state.status === "signed-in") endSession("session-ended");
          else if (state.status === "restoring") endSession(undefined);
        }
        throw new SessionEndedError({ cause: error.problem });
      }
    })();
    const entry = { epoch: started, promise };
    inflight = entry;
    const done = () => {
      if (inflight === entry) inflight = null;
    };
    promise.then(done, done);
    return promise;
  }

  function currentTokenOrThrow(): string {
    if (accessToken === null) throw new SessionEndedError();
    return accessToken;
  }

  /** The timer's (and a returning tab's) refresh; a transient failure is retried with back-off. */
  function proactiveRefresh(): void {
    if (disposed || state.status !== "signed-in") return;
    const started = epoch;
    refresh().catch((error: unknown) => {
      if (error instanceof SessionEndedError || disposed || epoch !== started) return;
      proactiveFailures += 1;
      setRefreshTimer(
        Math.min(PROACTIVE_RETRY_MAX_MS, PROACTIVE_RETRY_BASE_MS * 2 ** (proactiveFailures - 1)),
      );
    });
  }

  function onVisibilityChange(): void {
    // A hidden tab's timers are throttled (or the machine slept): catch up on coming back.
    if (deps.visibility?.isVisible() && deps.now() >= refreshAt) proactiveRefresh();
  }

  const channel = deps.channel(CHANNEL_NAME);
  function broadcast(message: Broadcast): void {
    try {
      channel?.postMessage(message);
    } catch {
      // A closed channel: the other tabs learn of it at their next refresh.
    }
  }
  function onBroadcast(data: unknown): void {
    const parsed = broadcastSchema.safeParse(data);
    if (disposed || !parsed.success) return;
    if (parsed.data.type === "signed-out") {
      // The session (shared through the cookie) was ended in another tab: drop the token.
      if (state.status === "signed-in") endSession("other-tab");
      else if (state.status === "restoring") endSession(undefined);
    } else if (restoring) {
      // A restore under way may have asked before the new cookie was set: ask again after it.
      restoreAgain = true;
    } else if (state.status !== "signed-in") {
      void restore();
    } else {
      // Already signed in: another tab's sign-in replaced the cookie, perhaps with another
      // account's. Refresh with it, so this tab holds the session the cookie holds.
      proactiveRefresh();
    }
  }
  if (channel) channel.onmessage = (event) => onBroadcast(event.data);

  const stopWatchingVisibility = deps.visibility?.onChange(onVisibilityChange) ?? null;

  function send(path: string, init: RequestInit, token: string): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${token}`);
    return deps.fetch(path, { ...init, headers });
  }

  async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (!isSameOriginPath(path)) {
      throw new TypeError("apiFetch takes a path on this origin, such as /api/tasks");
    }
    if (restoring) await restoring;
    const token = currentTokenOrThrow();
    const first = await send(path, init, token);
    if (first.status !== 401) return first;
    void first.body?.cancel().catch(() => undefined);

    // Another caller may have refreshed while this request was under way: use its token.
    const fresh = accessToken !== null && accessToken !== token ? accessToken : await refresh();
    const second = await send(path, init, fresh);
    if (second.status !== 401) return second;

    // A token minted a moment ago was refused: the session was revoked (another device's
    // revoke, a password change, the account deleted). Refreshing again would only loop.
    const problem = await ApiProblem.from(second, deps.now);
    if (accessToken === fresh) endSession("session-ended");
    throw new SessionEndedError({ cause: problem });
  }

  async function authenticate(path: string, body: Record<string, unknown>): Promise<void> {
    const response = await deps.fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...body, refresh_token_delivery: "cookie" }),
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) throw await ApiProblem.from(response, deps.now);
    const tokens = await readTokenResponse(response);
    if (disposed) return;
    // A restore or refresh still under way belongs to the previous cookie: it is not applied.
    epoch += 1;
    restoreAgain = false;
    accept(tokens);
    broadcast({ type: "signed-in" });
  }

  function postSignOut(token: string): Promise<Response> {
    return deps.fetch("/api/auth/sign-out", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: "{}",
      credentials: "same-origin",
    });
  }

  async function restore(): Promise<void> {
    if (restoring) return restoring;
    restoreAgain = false;
    const run = async () => {
      for (let attempt = 0; ; attempt += 1) {
        const started = epoch;
        try {
          await refresh();
          return;
        } catch (error) {
          if (error instanceof SessionEndedError || disposed || epoch !== started) return;
          const wait = RESTORE_RETRY_DELAYS_MS[attempt];
          if (wait === undefined) {
            // The auth-service stays out of reach: show sign-in rather than a spinner for ever.
            if (state.status === "restoring") endSession(undefined);
            return;
          }
          await sleep(wait);
          if (disposed || epoch !== started) return;
        }
      }
    };
    const current = run().finally(() => {
      restoring = null;
      if (restoreAgain && !disposed && state.status === "signed-out") void restore();
    });
    restoring = current;
    return current;
  }

  return {
    getState: () => state,

    subscribe: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    restore,

    signIn: (email, password) => authenticate("/api/auth/sign-in", { email, password }),

    signUp: (email, password, name) =>
      authenticate("/api/auth/sign-up", name === undefined ? { email, password } : { email, password, name }),

    async signOut() {
      if (restoring) await restoring;
      const token = accessToken;
      // From here this tab holds no session: refreshes under way are not applied.
      epoch += 1;
      accessToken = null;
      refreshAt = Number.POSITIVE_INFINITY;
      clearRefreshTimer();
      try {
        if (token !== null) {
          const response = await postSignOut(token);
          if (response.status === 401 && (await ApiProblem.from(response)).type === INVALID_TOKEN) {
            // The access token ran out (a sleeping laptop): without a fresh one the session
            // would outlive the sign-out, and the cookie would restore it on the next load.
            const tokens = await runRefresh();
            await postSignOut(tokens.access_token);
          }
        }
      } catch {
        // The user asked to sign out: this tab signs out whatever the network answers.
      }
      endSession("signed-out");
      broadcast({ type: "signed-out" });
    },

    apiFetch,

    dispose() {
      if (disposed) return;
      disposed = true;
      epoch += 1;
      accessToken = null;
      refreshAt = Number.POSITIVE_INFINITY;
      clearRefreshTimer();
      restoreAgain = false;
      if (channel) {
        channel.onmessage = null;
        channel.close();
      }
      stopWatchingVisibility?.();
      listeners.clear();
    },
  };
}
