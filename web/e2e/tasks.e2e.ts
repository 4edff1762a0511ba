// A user's tasks, end to end: the main flow survives a reload, and two users never meet.
import { expect, test } from "vitest";

import { PASSWORD, addTask, appUrl, browserForThisFile, newEmail, signUp, tasksService, taskTitles } from "./browser";

const browser = browserForThisFile();

test("a new user adds, completes, filters, edits and deletes tasks, and a reload keeps it all", async () => {
  const context = await browser.newContext();
  const page = await signUp(context, newEmail("flow"));

  for (const title of ["Buy milk", "Write report", "Call Alice"]) {
    await addTask(page, title);
  }
  expect(await taskTitles(page)).toEqual(["Call Alice", "Write report", "Buy milk"]);

  await page.getByLabel("Completed: Buy milk").check();
  await page.getByLabel("Status").selectOption("true");
  await expect.poll(() => taskTitles(page)).toEqual(["Buy milk"]);
  await page.getByLabel("Status").selectOption("false");
  await expect.poll(() => taskTitles(page)).toEqual(["Call Alice", "Write report"]);
  await page.getByLabel("Status").selectOption("");

  await page.getByRole("button", { name: "Edit Write report" }).click();
  const editing = page.locator(".task-list form");
  await editing.getByLabel("Title").fill("Write the quarterly report");
  await editing.getByRole("button", { name: "Save" }).click();
  await expect.poll(() => taskTitles(page)).toContain("Write the quarterly report");

  await page.getByRole("button", { name: "Delete Call Alice" }).click();
  await expect.poll(() => taskTitles(page)).toEqual(["Write the quarterly report", "Buy milk"]);

  await page.reload();
  await page.getByRole("heading", { name: "Tasks" }).waitFor();
  await expect.poll(() => taskTitles(page)).toEqual(["Write the quarterly report", "Buy milk"]);
  expect(await page.getByLabel("Completed: Buy milk").isChecked()).toBe(true);
  await context.close();
});

test("two users in two browser contexts never see each other's tasks", async () => {
  const alice = await browser.newContext();
  const bob = await browser.newContext();
  const alicePage = await signUp(alice, newEmail("alice"));
  const bobPage = await signUp(bob, newEmail("bob"));
  await addTask(alicePage, "Alice's secret");
  await addTask(bobPage, "Bob's secret");

  await alicePage.reload();
  await bobPage.reload();
  await expect.poll(() => taskTitles(alicePage)).toEqual(["Alice's secret"]);
  await expect.poll(() => taskTitles(bobPage)).toEqual(["Bob's secret"]);
  await alice.close();
  await bob.close();
});

test("the app opens at the URL make run prints", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(appUrl());
  // Signed out: the app sends the visitor to sign-in.
  await page.getByRole("heading", { name: "Sign in to Taskgate" }).waitFor();
  await context.close();
});

test("while the tasks-service is down the app says so and keeps the typed text; then it carries on", async () => {
  const context = await browser.newContext();
  const page = await signUp(context, newEmail("outage"));
  await addTask(page, "Before the outage");

  await tasksService("stop");
  try {
    const form = page.locator("details.new-task");
    await form.getByLabel("Title").fill("Typed during the outage");
    await form.getByLabel("Description").fill("Every word of it");
    await form.getByRole("button", { name: "Add task" }).click();
    await form.getByRole("alert").getByText("unavailable").waitFor();
    expect(await form.getByLabel("Title").inputValue()).toBe("Typed during the outage");
    expect(await form.getByLabel("Description").inputValue()).toBe("Every word of it");
  } finally {
    await tasksService("start");
  }

  await page.locator("details.new-task").getByRole("button", { name: "Add task" }).click();
  await expect.poll(() => taskTitles(page)).toEqual(["Typed during the outage", "Before the outage"]);
  await context.close();
});

test("after sign-out and sign-in as another user, in this tab and the next, only the new user's tasks show", async () => {
  const context = await browser.newContext();
  const first = await signUp(context, newEmail("before"));
  await addTask(first, "The first user's task");
  const second = await context.newPage();
  await second.goto(appUrl());
  await second.getByText("The first user's task", { exact: true }).waitFor();

  await first.getByRole("button", { name: "Sign out" }).first().click();
  await second.getByRole("heading", { name: "Sign in to Taskgate" }).waitFor();
  await first.getByRole("link", { name: "Create an account" }).click();
  await first.getByLabel("Email").fill(newEmail("after"));
  await first.getByLabel("Password").fill(PASSWORD);
  await first.getByRole("button", { name: "Sign up" }).click();

  // The other tab hears of the sign-in and restores the new session from the cookie.
  for (const page of [first, second]) {
    await page.getByText("No tasks yet", { exact: false }).waitFor();
    expect(await page.getByText("The first user's task").count()).toBe(0);
  }
  await context.close();
});
