// The account page end to end: a session revoked from another device, a password change and
// an account deletion.
import { expect, test } from "vitest";
import type { Page } from "playwright-core";

import { PASSWORD, addTask, appUrl, browserForThisFile, newEmail, signUp } from "./browser";

const browser = browserForThisFile();

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${appUrl()}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a session revoked from a second device sends the first to sign-in, with the reason, at its next action", async () => {
  const email = newEmail("revoked");
  const laptop = await browser.newContext();
  const first = await signUp(laptop, email);
  const phone = await browser.newContext();
  const second = await phone.newPage();
  await signIn(second, email, PASSWORD);
  await second.getByRole("heading", { name: "Tasks" }).waitFor();

  await second.getByRole("link", { name: "Account" }).click();
  await second.getByRole("button", { name: /^Revoke/ }).click();
  await expect.poll(() => second.getByRole("button", { name: /^Revoke/ }).count()).toBe(0);

  // The laptop's next action: its token is refused, and so is its refresh.
  await first.locator("details.new-task").getByLabel("Title").fill("After the revoke");
  await first.locator("details.new-task").getByRole("button", { name: "Add task" }).click();
  await first.getByRole("heading", { name: "Sign in to Taskgate" }).waitFor();
  await first.getByText("Your session has ended").waitFor();
  await laptop.close();
  await phone.close();
});

test("after a password change the old password fails; after deleting the account sign-in fails", async () => {
  const email = newEmail("account");
  const context = await browser.newContext();
  const page = await signUp(context, email);
  await addTask(page, "Soon gone");
  await page.getByRole("link", { name: "Account" }).click();

  const newPassword = "an even longer and more unusual passphrase 43";
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password").fill(newPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("Password changed.").waitFor();

  const other = await browser.newContext();
  const check = await other.newPage();
  await signIn(check, email, PASSWORD);
  await check.getByRole("alert").waitFor();
  expect(await check.getByRole("heading", { name: "Sign in to Taskgate" }).isVisible()).toBe(true);

  await page.locator("form.danger").getByLabel("Password").fill(newPassword);
  await page.getByRole("button", { name: "Delete my account" }).click();
  await page.getByRole("heading", { name: "Sign in to Taskgate" }).waitFor();

  await signIn(check, email, newPassword);
  await check.getByRole("alert").waitFor();
  expect(await check.getByRole("heading", { name: "Sign in to Taskgate" }).isVisible()).toBe(true);
  await context.close();
  await other.close();
});

test("a 412 between two tabs editing one task is shown and resolved", async () => {
  const context = await browser.newContext();
  const first = await signUp(context, newEmail("conflict"));
  await addTask(first, "Shared task");
  const second = await context.newPage();
  await second.goto(appUrl());
  await second.getByText("Shared task", { exact: true }).waitFor();

  // Both open the editor on version 1; the second saves first.
  await first.getByRole("button", { name: "Edit Shared task" }).click();
  await second.getByRole("button", { name: "Edit Shared task" }).click();
  await second.locator(".task-list form").getByLabel("Title").fill("Theirs");
  await second.locator(".task-list form").getByRole("button", { name: "Save" }).click();
  await second.getByText("Theirs", { exact: true }).waitFor();

  await first.locator(".task-list form").getByLabel("Title").fill("Mine");
  await first.locator(".task-list form").getByRole("button", { name: "Save" }).click();
  const dialog = first.getByRole("alertdialog");
  await dialog.getByText("Theirs").waitFor();
  await dialog.getByRole("button", { name: "Keep mine" }).click();
  await first.locator(".task-title", { hasText: "Mine" }).waitFor();

  await second.reload();
  await second.locator(".task-title", { hasText: "Mine" }).waitFor();
  await context.close();
});
