// Fakes for the auth client's tests: a scripted server behind `fetch`, a Web Locks manager,
// BroadcastChannels that share a hub (several clients = several tabs), and page visibility.
// Only the tests import this file.
import type { ChannelLike, LockManagerLike, User, VisibilityLike } from "./client";

export type Call = {
  path: string;
  method: string;
  headers: Headers;
  body: string | undefined;
  credentials: RequestCredentials | undefined;
  /** Whether the fake lock was held when the request was sent. */
  lockHeld: boolean;
};

type Handler = (call: Call) => Response | Promise<Response>;

export const alice: User = {
  id: "0191f4a6-0000-7000-8000-000000000001",
  email: "alice@example.org",
  name: "Alice",
  created_at: "2025-01-01T00:00:00Z",
};

export const bob: User = {
  id: "0191f4a6-0000-7000-8000-000000000002",
  email: "bob@example.org",
  name: null,
  created_at: "2025-01-02T00:00:00Z",
};

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function tokens(accessToken: string, expiresIn = 900, user: User = alice): Response {
  return json(200, { access_token: accessToken, token_type: "Bearer", expires_in: expiresIn, user });
}

export function problem(
  status: number,
  slug: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return new Response(
    JSON.stringify({ type: `urn:taskgate:problem:${slug}`, title: slug, status, ...extra }),
    { status, headers: { "Content-Type": "application/problem+json", ...headers } },
  );
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/** A promise with its resolve in hand: a response the test releases when it chooses. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export class FakeLocks implements LockManagerLike {
  private held = false;
  private readonly waiting: Array<() => void> = [];
  /** Lock requests made (granted or not). */
  requests = 0;

  isHeld(): boolean {
    return this.held;
  }

  async request<T>(
    _name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<T>,
  ): Promise<T> {
    this.requests += 1;
    await this.acquire(options.signal);
    try {
      return await callback();
    } finally {
      this.release();
    }
  }

  /** Another tab takes the lock (and never lets go until the returned function is called). */
  holdElsewhere(): () => void {
    let release = () => {};
    void this.request("taskgate-refresh", {}, () => new Promise<void>((r) => (release = r)));
    return () => release();
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new DOMException("aborted", "AbortError"));
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const abort = () => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new DOMException("aborted", "AbortError"));
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

/** The fake server: one handler per path; every request is recorded. */
export class FakeServer {
  readonly calls: Call[] = [];
  private readonly handlers = new Map<string, Handler>();

  constructor(private readonly locks: FakeLocks | null = null) {}

  on(path: string, handler: Handler): this {
    this.handlers.set(path, handler);
    return this;
  }

  /** Answers in turn; the last answer repeats. */
  sequence(path: string, ...answers: Array<() => Response | Promise<Response>>): this {
    let index = 0;
    return this.on(path, () => {
      const answer = answers[Math.min(index, answers.length - 1)];
      index += 1;
      if (!answer) throw new Error(`no answer for ${path}`);
      return answer();
    });
  }

  callsTo(path: string): Call[] {
    return this.calls.filter((call) => call.path === path);
  }

  readonly fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const call: Call = {
      path: input,
      method: init.method ?? "GET",
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? init.body : undefined,
      credentials: init.credentials,
      lockHeld: this.locks?.isHeld() ?? false,
    };
    this.calls.push(call);
    const handler = this.handlers.get(input);
    if (!handler) return problem(404, "not-found");
    return handler(call);
  };
}

type FakeChannel = ChannelLike & { name: string; closed: boolean };

/** BroadcastChannels of one browser: a message reaches every other channel of its name. */
export class ChannelHub {
  readonly channels = new Set<FakeChannel>();
  readonly posted: unknown[] = [];

  readonly factory = (name: string): ChannelLike => {
    const { channels, posted } = this;
    const channel: FakeChannel = {
      name,
      closed: false,
      onmessage: null,
      postMessage(message: unknown) {
        if (channel.closed) throw new DOMException("closed", "InvalidStateError");
        posted.push(message);
        for (const other of channels) {
          if (other === channel || other.name !== name) continue;
          const data = structuredClone(message);
          // Delivered as a later task, as BroadcastChannel does (never to the sender itself).
          void Promise.resolve().then(() => other.onmessage?.({ data }));
        }
      },
      close() {
        channel.closed = true;
        channels.delete(channel);
      },
    };
    this.channels.add(channel);
    return channel;
  };
}

export class FakeVisibility implements VisibilityLike {
  private visible = true;
  private readonly listeners = new Set<() => void>();

  isVisible(): boolean {
    return this.visible;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(visible: boolean): void {
    this.visible = visible;
    for (const listener of this.listeners) listener();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
