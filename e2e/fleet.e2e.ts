import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { makeShapesImageFolder } from "../server/ml/data/testing/shapes";
import { baseUrl, launchBrowser, logIn } from "./browser";

let browser: Browser;

before(async () => {
  browser = await launchBrowser();
});
after(() => browser.close());

/** A tRPC call from the logged-in page (its session cookie, its origin), as the studio's own pages make them. */
function trpc<T>(page: Page, procedure: string, input: unknown, mutation = false): Promise<T> {
  return page.evaluate(
    async ([procedure, input, mutation]) => {
      const encoded = JSON.stringify({ json: input });
      const res = mutation
        ? await fetch(`/api/trpc/${procedure}`, { method: "POST", headers: { "content-type": "application/json" }, body: encoded })
        : await fetch(`/api/trpc/${procedure}?input=${encodeURIComponent(encoded)}`);
      const body = await res.json();
      if (!res.ok) throw new Error(`${procedure}: ${JSON.stringify(body)}`);
      return body.result.data.json;
    },
    [procedure, input, mutation] as const,
  ) as Promise<T>;
}

const queuedIds = (page: Page) => page.getByTestId("queue-entry").evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-experiment"))));

test("the fleet page shows this host, its CPU, the running run and the queue; an administrator re-prioritises and cancels queued runs", async () => {
  const page = await (await browser.newContext()).newPage();
  await logIn(page);

  // A small dataset on the server, and three long runs: one trains on the single slot, two wait.
  const folder = path.join(process.env.E2E_IMPORTS_DIR!, `fleet-shapes-${Date.now()}`);
  await makeShapesImageFolder(folder, { classes: 2, perClass: 10, size: 32, seed: 2 });
  const projectId = (await trpc<{ id: number; name: string }[]>(page, "projects.list", undefined)).find((p) => p.name === "default")!.id;
  const dataset = await trpc<{ id: number }>(page, "datasets.importFromPath", { projectId, name: path.basename(folder), path: folder }, true);
  for (let i = 0; i < 120 && (await trpc<{ status: string }>(page, "datasets.byId", { id: dataset.id })).status !== "ready"; i++) await page.waitForTimeout(500);
  const runs: number[] = [];
  for (const name of ["fleet-a", "fleet-b", "fleet-c"]) {
    const created = await trpc<{ id: number }>(page, "experiments.create", { projectId, name: `${name}-${Date.now()}`, datasetId: dataset.id, model: "reference-cnn", hyperparameters: { epochs: 500, batch: 4, imgsz: 32 }, device: "auto", start: true }, true);
    runs.push(created.id);
  }
  const [running, second, third] = runs;
  for (let i = 0; i < 240 && (await trpc<{ status: string }>(page, "experiments.byId", { id: running })).status !== "running"; i++) await page.waitForTimeout(500);

  try {
    await page.goto(`${baseUrl}/fleet`);
    const host = page.getByTestId("fleet-host").first();
    await host.getByTestId("host-state").filter({ hasText: /^up$/ }).waitFor({ timeout: 30_000 });
    // No GPU on this machine: the CPU is the only device, and the page says why.
    await host.locator('[data-testid="fleet-device"][data-device="cpu"]').waitFor();
    assert.equal(await host.getByTestId("fleet-device").count(), 1);
    assert.match(await host.getByTestId("gpu-unavailable").innerText(), /nvidia-smi/);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="sparkline"]')?.getAttribute("data-points") ?? 0) >= 3, null, { timeout: 30_000 });
    await host.getByTestId("slots").filter({ hasText: "1 of 1 slots in use" }).waitFor({ timeout: 30_000 });
    await host.getByTestId("fleet-run").locator(`a[href="/experiments/${running}"]`).waitFor();

    // The queue in start order; priority 10 moves the last run to the front.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="queue-entry"]').length === 2);
    assert.deepEqual(await queuedIds(page), [second, third]);
    const thirdRow = page.locator(`[data-testid="queue-entry"][data-experiment="${third}"]`);
    await thirdRow.getByRole("spinbutton").fill("10");
    await thirdRow.getByRole("button", { name: "Set" }).click();
    await page.waitForFunction((id) => document.querySelector('[data-testid="queue-entry"]')?.getAttribute("data-experiment") === String(id), third);
    assert.deepEqual(await queuedIds(page), [third, second]);
    assert.equal((await trpc<{ queuePosition: number }>(page, "experiments.byId", { id: third })).queuePosition, 1);

    await page.locator(`[data-testid="queue-entry"][data-experiment="${second}"]`).getByRole("button", { name: "Cancel" }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="queue-entry"]').length === 1);
    assert.equal((await trpc<{ status: string }>(page, "experiments.byId", { id: second })).status, "stopped");

    // The running experiment's page charts its host and its own process.
    await page.goto(`${baseUrl}/experiments/${running}`);
    await page.waitForFunction(() => Number(document.querySelector('figure[aria-label="system utilisation"]')?.getAttribute("data-points") ?? 0) > 0, null, { timeout: 30_000 });
  } finally {
    for (const id of runs) await trpc(page, "experiments.stop", { id }, true).catch(() => {});
  }
});
