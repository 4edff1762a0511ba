// axe-core finds no violation on any page, and the main flow works by keyboard alone.
import { createRequire } from "node:module";

import { expect, test } from "vitest";
import type { Page } from "playwright-core";

import { PASSWORD, appUrl, browserForThisFile, newEmail, signUp, taskTitles } from "./browser";

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

const browser = browserForThisFile();

type AxeResult = { violations: { id: string; help: string; nodes: { target: unknown }[] }[] };

async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  const result = (await page.evaluate("axe.run(document)")) as AxeResult;
  return result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")})`,
  );
}

test("axe-core reports no violations on any page, in light and dark mode", async () => {
  for (const colorScheme of ["light", "dark"] as const) {
    const context = await browser.newContext({ colorScheme });
    const visitor = await context.newPage();
    for (const path of ["/sign-in", "/sign-up"]) {
      await visitor.goto(`${appUrl()}${path}`);
      await visitor.getByRole("heading").first().waitFor();
      expect(await violations(visitor), `${path} (${colorScheme})`).toEqual([]);
    }
    const page = await signUp(context, newEmail(`axe-${colorScheme}`));
    expect(await violations(page), `tasks (${colorScheme})`).toEqual([]);
    await page.getByRole("link", { name: "Account" }).click();
    await page.getByRole("heading", { name: "Sessions" }).waitFor();
    expect(await violations(page), `account (${colorScheme})`).toEqual([]);
    await context.close();
  }
});

test("the main flow works by keyboard alone", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${appUrl()}/sign-up`);
  // Tab from the top of the page to each field, type, and submit with Enter.
  const tabTo = async (label: string) => {
    for (let i = 0; i < 20; i += 1) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLInputElement | null;
        return el?.getAttribute("aria-label") || el?.labels?.[0]?.textContent || el?.textContent || "";
      });
      if (focused.trim() === label) return;
    }
    throw new Error(`${label} is not reachable by Tab`);
  };
  await tabTo("Email");
  await page.keyboard.type(newEmail("keyboard"));
  await tabTo("Password");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Tasks" }).waitFor();

  await tabTo("Title");
  await page.keyboard.type("Typed, not clicked");
  await page.keyboard.press("Enter");
  await expect.poll(() => taskTitles(page)).toEqual(["Typed, not clicked"]);

  await tabTo("Completed: Typed, not clicked");
  await page.keyboard.press("Space");
  await expect.poll(() => page.getByLabel("Completed: Typed, not clicked").isChecked()).toBe(true);
  await context.close();
});
