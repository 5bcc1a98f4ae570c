import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { baseUrl, launchBrowser, logIn } from "./browser";

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(() => browser.close());

test("the API page and /openapi.json are behind the login", async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/docs`);
  await page.waitForURL(/\/login/);
  const anonymous = await fetch(`${baseUrl}/openapi.json`);
  assert.equal(anonymous.status, 401);
  await page.close();
});

test("a logged-in user reads every face's routes, a route's request body field by field, and downloads the document", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page);
  await page.goto(`${baseUrl}/docs`);
  for (const face of ["studio", "seed 000 · training module", "seed 001 · training metrics", "seed 002 · studio backend", "seed 003 · recognition backend", "seed 004 · task status"]) {
    await page.getByRole("heading", { name: face, exact: true }).waitFor();
  }
  const createTask = page.locator("details.api-op", { hasText: "/training/create_task" });
  await createTask.locator("summary").click();
  await createTask.getByRole("cell", { name: "task_name*" }).waitFor();
  assert.match((await createTask.textContent()) ?? "", /exclusiveMinimum 0/);

  await page.getByPlaceholder(/filter routes|筛选接口/i).fill("task_status");
  await page.locator("details.api-op", { hasText: "/task_status/{task_id}" }).waitFor();
  assert.equal(await page.locator("details.api-op", { hasText: "/training/create_task" }).count(), 0);

  const spec = await page.evaluate(async () => (await fetch("/openapi.json")).json());
  assert.equal(spec.openapi, "3.1.0");
  assert.ok(spec.paths["/api/v1/experiments/{id}/control"].post.requestBody);
  await context.close();
});
