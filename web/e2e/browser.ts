// Debian's Chromium driven by playwright-core (no browser download here), and the steps the
// scenarios share.
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, inject } from "vitest";

export const appUrl = () => inject("appUrl");

/** Stops or starts the tasks-service under the running app (the global setup's control). */
export async function tasksService(action: "stop" | "start"): Promise<void> {
  const response = await fetch(`${inject("controlUrl")}/tasks-service/${action}`, { method: "POST" });
  if (!response.ok) throw new Error(`tasks-service ${action}: ${await response.text()}`);
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: ["--no-sandbox"],
  });
}

/** The test file's browser: launched before its first test, closed after its last. */
export function browserForThisFile(): Pick<Browser, "newContext"> {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    newContext: (options) => {
      if (!browser) throw new Error("the browser is not launched yet");
      return browser.newContext(options);
    },
  };
}

let counter = 0;
/** A fresh email per call, so scenarios never share a user. */
export function newEmail(label: string): string {
  counter += 1;
  return `${label}-${Date.now()}-${counter}@example.org`;
}

export const PASSWORD = "a long and unusual passphrase 42";

export async function signUp(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${appUrl()}/sign-up`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("heading", { name: "Tasks" }).waitFor();
  return page;
}

/** Adds a task and waits until the server has taken it (not just the optimistic row). */
export async function addTask(page: Page, title: string): Promise<void> {
  const form = page.locator("details.new-task");
  await form.getByLabel("Title").fill(title);
  const created = page.waitForResponse(
    (response) => response.url().endsWith("/api/tasks") && response.request().method() === "POST",
  );
  await form.getByRole("button", { name: "Add task" }).click();
  const response = await created;
  if (response.status() !== 201) throw new Error(`creating ${title}: ${response.status()}`);
  await page.locator(".task:not([aria-busy])").getByText(title, { exact: true }).waitFor();
}

export async function taskTitles(page: Page): Promise<string[]> {
  return page.locator(".task-title").allTextContents();
}
