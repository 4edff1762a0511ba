// The session across tabs: sign-out in one reaches the other within a second.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Browser } from "playwright-core";

import { launch, newEmail, signUp } from "./browser";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

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
