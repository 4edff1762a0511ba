// The session across tabs and time: sign-out in one tab reaches the other within a second,
// simultaneous refreshes in two tabs never sign either out, and an expired token costs nothing.
import { expect, test } from "vitest";

import { addTask, browserForThisFile, newEmail, signUp } from "./browser";

const browser = browserForThisFile();

test("sign-out in one tab signs the other out within 1 s", async () => {
  const context = await browser.newContext();
  const first = await signUp(context, newEmail("tabs"));
  const second = await context.newPage();
  await second.goto(first.url());
  await second.getByRole("heading", { name: "Tasks" }).waitFor();

  await first.getByRole("button", { name: "Sign out" }).first().click();
  const started = Date.now();
  await second.getByRole("heading", { name: "Sign in to Taskgate" }).waitFor({ timeout: 5_000 });
  expect(Date.now() - started).toBeLessThan(1_000);
  await context.close();
});

test("two tabs of one user refresh at the same moment, 20 times in a row: neither is ever signed out", async () => {
  const context = await browser.newContext();
  // One fake clock for every page of the context: jumping it fires both tabs' proactive
  // refresh timers in the same instant.
  await context.clock.install();
  const first = await signUp(context, newEmail("race"));
  const second = await context.newPage();
  await second.goto(first.url());
  await second.getByRole("heading", { name: "Tasks" }).waitFor();
  let refreshes = 0;
  const answers: number[] = [];
  context.on("request", (request) => {
    if (request.url().endsWith("/api/auth/refresh")) refreshes += 1;
  });
  context.on("response", (response) => {
    if (response.url().endsWith("/api/auth/refresh")) answers.push(response.status());
  });

  let rounds = 0;
  for (let round = 1; round <= 20; round += 1) {
    const before = answers.filter((status) => status === 200).length;
    // Past both tabs' refresh point (half the 60 s lifetime, less jitter).
    await context.clock.fastForward(35_000);
    await expect
      .poll(() => answers.filter((status) => status === 200).length - before, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    for (const page of [first, second]) {
      expect(await page.getByRole("heading", { name: "Sign in to Taskgate" }).count()).toBe(0);
    }
    rounds = round;
  }
  expect(rounds).toBe(20);
  expect(refreshes).toBeGreaterThanOrEqual(40);
  // Both still work: each adds a task with its own token.
  await addTask(first, "From the first tab");
  await addTask(second, "From the second tab");
  await context.close();
});

test("an access token that really expires while the user works: no error, no lost click", async () => {
  const context = await browser.newContext();
  await context.clock.install();
  const page = await signUp(context, newEmail("expiry"));
  // Freeze the page's timers so no proactive refresh runs, and let the 60 s token expire
  // for real (the tasks-service allows no leeway in these tests).
  await context.clock.pauseAt(Date.now() + 1_000);
  await new Promise((resolve) => setTimeout(resolve, 62_000));
  await context.clock.resume();

  const refused: string[] = [];
  context.on("response", (response) => {
    if (response.url().includes("/api/tasks") && response.status() === 401) refused.push(response.url());
  });
  const form = page.locator("details.new-task");
  await form.getByLabel("Title").fill("Clicked with an expired token");
  await form.getByRole("button", { name: "Add task" }).click();
  // The server's row (not the optimistic one): the create went through after the refresh.
  await page.locator(".task:not([aria-busy])").getByText("Clicked with an expired token").waitFor();
  expect(await page.getByRole("alert").count()).toBe(0);
  expect(await page.getByRole("heading", { name: "Tasks" }).isVisible()).toBe(true);
  // The token had really expired: the tasks-service refused it once, and the app refreshed.
  expect(refused.length).toBeGreaterThanOrEqual(1);
  await context.close();
});
