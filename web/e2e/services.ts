// The real system for the end-to-end tests: both service binaries on SQLite in a throwaway
// folder and the app's Vite server in front of them, on free loopback ports. Vitest's global
// setup starts it once and stops it after the last test.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free port on 127.0.0.1 (free when this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 2xx, for up to `ms`. */
export async function waitReady(url: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export type System = {
  appUrl: string;
  /** Stops the tasks-service (SIGTERM, drained) and waits for it to exit. */
  stopTasksService: () => Promise<void>;
  /** Starts it again on the same port and database, and waits until it is ready. */
  startTasksService: () => Promise<void>;
  stop: () => Promise<void>;
};

/**
 * Starts the auth-service, the tasks-service and the app. `binDir` holds the two debug
 * binaries (`cargo build` puts them in <target>/debug). Access tokens live `accessTtlSecs`.
 */
export async function startSystem(binDir: string, accessTtlSecs: number): Promise<System> {
  const work = mkdtempSync(join(tmpdir(), "taskgate-e2e-"));
  const [authPort, tasksPort, webPort] = [await freePort(), await freePort(), await freePort()];
  const authUrl = `http://127.0.0.1:${authPort}`;
  const tasksUrl = `http://127.0.0.1:${tasksPort}`;
  const appUrl = `http://127.0.0.1:${webPort}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    RUST_LOG: "warn",
    AUTH__DATA_DIR: join(work, "auth"),
    AUTH__HTTP__PORT: String(authPort),
    AUTH__HTTP__ALLOWED_ORIGINS: appUrl,
    AUTH__TOKENS__ACCESS_TTL_SECS: String(accessTtlSecs),
    AUTH__TOKENS__SERVICE_TTL_SECS: String(accessTtlSecs),
    // Every browser in the tests signs up from 127.0.0.1.
    AUTH__THROTTLE__SIGN_UPS_PER_ADDRESS: "100000",
    AUTH__THROTTLE__IP_MAX_FAILURES: "100000",
    TASKS__DATA_DIR: join(work, "tasks"),
    TASKS__HTTP__PORT: String(tasksPort),
    TASKS__AUTH__ISSUER_URL: authUrl,
    TASKS__AUTH__LEEWAY_SECS: "0",
  };
  const client = (name: string, scope: string) => {
    const out = execFileSync(join(binDir, "auth-service"), ["clients", "create", "--name", name, "--scope", scope], {
      env,
      encoding: "utf8",
    });
    const field = (key: string) => out.match(new RegExp(`^${key}: *(\\S+)`, "m"))?.[1] ?? "";
    return { id: field("client_id"), secret: field("client_secret") };
  };
  const feed = client("revocation follower (e2e)", "revocations:read");
  env.TASKS__AUTH__FEED_CLIENT_ID = feed.id;
  env.TASKS__AUTH__FEED_CLIENT_SECRET = feed.secret;

  const children: ChildProcess[] = [];
  const start = (command: string, args: string[], extra: NodeJS.ProcessEnv = {}, cwd?: string) => {
    const child = spawn(command, args, { env: { ...env, ...extra }, cwd, stdio: ["ignore", "ignore", "inherit"] });
    children.push(child);
    return child;
  };
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  /** SIGTERM (the services drain), then SIGKILL if one has not exited within 10 s. */
  const stopAll = async () => {
    for (const child of children) child.kill("SIGTERM");
    const killer = setTimeout(() => children.forEach((child) => child.kill("SIGKILL")), 10_000);
    await Promise.all(children.map(exited));
    clearTimeout(killer);
    rmSync(work, { recursive: true, force: true });
  };
  // Whatever happens to this test process, its children go with it.
  process.once("exit", () => children.forEach((child) => child.kill("SIGKILL")));

  let tasksService: ChildProcess;
  try {
    start(join(binDir, "auth-service"), ["serve"]);
    await waitReady(`${authUrl}/readyz`);
    tasksService = start(join(binDir, "tasks-service"), ["serve"]);
    await waitReady(`${tasksUrl}/readyz`);
    // The production build, as users get it (and no dev-server reload on a first visit).
    const web = join(import.meta.dirname, "..");
    const vite = join(web, "node_modules", ".bin", "vite");
    execFileSync(vite, ["build", "--logLevel", "warn"], { cwd: web, stdio: "inherit" });
    start(vite, ["preview", "--logLevel", "warn"], {
      TASKGATE_AUTH_URL: authUrl,
      TASKGATE_TASKS_URL: tasksUrl,
      TASKGATE_WEB_PORT: String(webPort),
    }, web);
    await waitReady(appUrl);
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    appUrl,
    async stopTasksService() {
      tasksService.kill("SIGTERM");
      await exited(tasksService);
    },
    async startTasksService() {
      tasksService = start(join(binDir, "tasks-service"), ["serve"]);
      await waitReady(`${tasksUrl}/readyz`);
    },
    stop: stopAll,
  };
}
