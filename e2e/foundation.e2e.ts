import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { baseUrl, launchBrowser, logIn } from "./browser";

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(() => browser.close());

test("an anonymous visit is sent to the login page", async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/experiments`);
  await page.waitForURL(/\/login/);
  assert.match(page.url(), /\/login\?callbackUrl=%2Fexperiments/);
  await page.close();
});

test("a user logs in, creates a project, sees it listed, switches team and logs out", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page);
  await page.goto(`${baseUrl}/projects`);
  const name = `shapes-${Date.now()}`;
  await page.getByLabel("project name").fill(name);
  await page.getByRole("button", { name: /^create$|^创建$/i }).click();
  await page.getByTestId("project-row").filter({ hasText: name }).waitFor();

  // A second team for the admin, made on the admin page; the header then offers the switch.
  await page.goto(`${baseUrl}/admin`);
  await page.getByLabel("new team name").fill("Second team");
  await page.getByRole("button", { name: "Create team" }).click();
  await page.getByLabel("new user team").locator("option", { hasText: "Second team" }).waitFor({ state: "attached" });
  await page.goto(`${baseUrl}/projects`);
  await page.getByLabel("team").selectOption({ label: "Second team (owner)" });
  // The switch reloads the page in the new team, where the first team's project must not show.
  await page.getByTestId("project-row").filter({ hasText: name }).waitFor({ state: "detached" });
  await page.getByTestId("project-row").filter({ hasText: "default" }).waitFor();
  assert.equal(await page.getByLabel("team").inputValue(), await page.getByLabel("team").locator("option", { hasText: "Second team" }).getAttribute("value"));

  await page.getByRole("button", { name: /log out|退出登录/i }).click();
  await page.waitForURL(/\/login/);
  await page.goto(`${baseUrl}/projects`);
  await page.waitForURL(/\/login/);
  await context.close();
});

test("the system page shows the studio's health and, to an administrator, what its processes printed", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page);
  await page.goto(`${baseUrl}/system`);
  await page.getByTestId("health").waitFor();
  // The supervisor's own line, and the web server's, kept in the database as they were printed.
  const logs = page.getByTestId("system-logs");
  await logs.filter({ hasText: "database migrated" }).waitFor({ timeout: 15_000 });
  await page.getByLabel("log source").selectOption("backend");
  await logs.filter({ hasText: "[web]" }).waitFor({ timeout: 15_000 });
  assert.doesNotMatch((await logs.textContent()) ?? "", /database migrated/);
  await context.close();
});

test("a wrong password shows an error and stays on the login page", async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel(/email/i).fill("nobody@e2e.local");
  await page.getByLabel(/password/i).fill("wrong-password");
  await page.getByRole("button", { name: /log in/i }).click();
  await page.getByRole("alert").waitFor();
  assert.match(page.url(), /\/login/);
  await page.close();
});
