// How fast the first page is interactive, with the services local (`npm run measure`, part of
// `make bench`): from navigation to a usable form, for a visitor (sign-in) and for a returning
// user (the session restored from the cookie, then the task list). Prints numbers; asserts
// nothing about time.
import { test } from "vitest";
import type { Page } from "playwright-core";

import { appUrl, browserForThisFile, newEmail, signUp } from "./browser";

const RUNS = 15;
const browser = browserForThisFile();

function summary(label: string, ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `${label}: median ${at(0.5).toFixed(0)} ms, p90 ${at(0.9).toFixed(0)} ms, max ${at(1).toFixed(0)} ms (${ms.length} loads)`;
}

/** Milliseconds from navigation until `ready` resolves on a fresh page of `context`. */
async function timeLoad(page: Page, url: string, ready: (page: Page) => Promise<void>): Promise<number> {
  const started = performance.now();
  await page.goto(url);
  await ready(page);
  return performance.now() - started;
}

test("first page interactive", async () => {
  const visitor: number[] = [];
  const returning: number[] = [];
  const user = await browser.newContext();
  const signedIn = await signUp(user, newEmail("measure"));
  await signedIn.close();
  for (let run = 0; run < RUNS; run += 1) {
    // A new context each time: a cold cache, as a first visit has.
    const context = await browser.newContext();
    const page = await context.newPage();
    visitor.push(
      await timeLoad(page, `${appUrl()}/sign-in`, (p) => p.getByLabel("Email").waitFor()),
    );
    await context.close();

    const tab = await user.newPage();
    returning.push(
      await timeLoad(tab, appUrl(), (p) =>
        p.getByRole("button", { name: "Add task" }).waitFor(),
      ),
    );
    await tab.close();
  }
  await user.close();
  console.log(summary("sign-in page, new visitor", visitor));
  console.log(summary("task page, returning user (cookie refresh + list)", returning));
});
