// Finding tasks: priority and completed filters, search, sort, "load more" over the API's
// cursor; and a sign-in locked by the throttle counting down its Retry-After.
import { expect, test } from "vitest";

import { PASSWORD, appUrl, browserForThisFile, newEmail, signUp, taskTitles } from "./browser";

const browser = browserForThisFile();

/** Creates tasks straight through the API, as another client of the same user would. */
async function createTasks(email: string, tasks: { title: string; priority: string }[]): Promise<void> {
  const signIn = await fetch(`${appUrl()}/api/auth/sign-in`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const { access_token: token } = (await signIn.json()) as { access_token: string };
  for (const task of tasks) {
    const created = await fetch(`${appUrl()}/api/tasks`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(task),
    });
    expect(created.status).toBe(201);
  }
}

test("filters, search, sort and load more", async () => {
  const email = newEmail("listing");
  const context = await browser.newContext();
  const page = await signUp(context, email);
  const many = Array.from({ length: 23 }, (_, n) => ({
    title: `Chore ${String(n + 1).padStart(2, "0")}`,
    priority: n % 3 === 0 ? "high" : "low",
  }));
  await createTasks(email, [...many, { title: "Buy oat milk", priority: "medium" }]);
  await page.reload();

  // A page holds 20; "load more" follows the cursor to the rest.
  await expect.poll(() => taskTitles(page).then((t) => t.length)).toBe(20);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect.poll(() => taskTitles(page).then((t) => t.length)).toBe(24);
  expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);

  await page.getByLabel("Search").fill("oat");
  await expect.poll(() => taskTitles(page)).toEqual(["Buy oat milk"]);
  await page.getByLabel("Search").fill("");

  await page.getByRole("search").getByLabel("Priority", { exact: true }).selectOption("high");
  await page.getByLabel("Sort").selectOption("title");
  await expect
    .poll(() => taskTitles(page))
    .toEqual(["Chore 01", "Chore 04", "Chore 07", "Chore 10", "Chore 13", "Chore 16", "Chore 19", "Chore 22"]);
  await page.getByLabel("Sort").selectOption("-created_at");
  await expect.poll(() => taskTitles(page).then((t) => t[0])).toBe("Chore 22");
  await context.close();
});

test("a sign-in locked by the throttle counts down its Retry-After", async () => {
  const email = newEmail("throttled");
  const owner = await browser.newContext();
  await signUp(owner, email);
  await owner.close();
  // Someone else, guessing.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${appUrl()}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password at all");
  // Five failures lock the account (AUTH__THROTTLE__ACCOUNT_MAX_FAILURES, default 5).
  for (let attempt = 0; attempt < 6; attempt += 1) {
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
  }
  const countdown = page.locator("p.alert [aria-hidden]");
  await expect.poll(() => countdown.textContent()).toMatch(/Try again in \d+ s\./);
  const first = Number((await countdown.textContent())?.match(/(\d+) s/)?.[1]);
  await expect
    .poll(() => countdown.textContent().then((text) => Number(text?.match(/(\d+) s/)?.[1])), { timeout: 5_000 })
    .toBeLessThan(first);
  await context.close();
});
