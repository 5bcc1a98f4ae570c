import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { writeTree, zipFolder } from "../server/datasets/testing";
import { shapeImage } from "./shape-images";
import { baseUrl, launchBrowser, logIn } from "./browser";

let browser: Browser;
let zipFile: string;

before(async () => {
  browser = await launchBrowser();
  const work = await mkdtemp(path.join(os.tmpdir(), "e2e-experiments-"));
  const files: Record<string, Buffer> = {};
  for (const shape of ["circle", "square", "triangle"] as const) {
    for (let i = 0; i < 20; i++) files[`${shape}/${i}.png`] = await shapeImage(shape, i);
  }
  zipFile = await zipFolder(await writeTree(path.join(work, "shapes"), files), path.join(work, "shapes.zip"));
});
after(() => browser.close());

const lossPoints = async (page: Page) => Number((await page.getByRole("figure", { name: "loss", exact: true }).getAttribute("data-points")) ?? 0);

async function waitForStatus(page: Page, status: string, timeout = 60_000) {
  await page.getByTestId("experiment-status").filter({ hasText: new RegExp(`^${status}$`) }).waitFor({ timeout });
}

test("create an experiment from the page, watch its loss chart grow, pause, resume and stop it", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page);

  const datasetName = `shapes-${Date.now()}`;
  await page.goto(`${baseUrl}/datasets`);
  await page.getByLabel("dataset name", { exact: true }).fill(datasetName);
  await page.getByLabel("zip file").setInputFiles(zipFile);
  await page.getByRole("button", { name: /upload \.zip|上传 \.zip/i }).click();
  await page.getByTestId("dataset-row").filter({ hasText: datasetName }).getByText("ready").waitFor({ timeout: 60_000 });

  await page.goto(`${baseUrl}/experiments/new`);
  // The form fills the engine's defaults once they load; set ours after that.
  await page.waitForFunction(() => (document.querySelector('input[aria-label="epochs"]') as HTMLInputElement | null)?.value === "10");
  const datasetOption = page.getByLabel("dataset", { exact: true }).locator("option", { hasText: datasetName });
  await datasetOption.waitFor({ state: "attached" });
  await page.getByLabel("dataset", { exact: true }).selectOption((await datasetOption.getAttribute("value"))!);
  await page.getByLabel("model", { exact: true }).selectOption("zoo:reference-cnn");
  await page.getByLabel("experiment name").fill(`e2e-${Date.now()}`);
  // Enough epochs that the run is still going when it is paused and stopped; stop ends it early.
  await page.getByLabel("epochs", { exact: true }).fill("200");
  await page.getByLabel("batch", { exact: true }).fill("8");
  await page.getByLabel("imgsz", { exact: true }).fill("32");
  // The run splits the dataset itself: 75/25.
  await page.getByLabel("own split").check();
  await page.getByLabel("train percent").fill("75");
  await page.getByLabel("val percent").fill("25");
  await page.getByTestId("create-experiment").click();
  await page.waitForURL(/\/experiments\/\d+$/);

  await waitForStatus(page, "running");
  await page.waitForFunction(() => Number(document.querySelector('figure[aria-label="loss"]')?.getAttribute("data-points") ?? 0) > 0, null, { timeout: 60_000 });
  const first = await lossPoints(page);
  await page.waitForFunction((n) => Number(document.querySelector('figure[aria-label="loss"]')?.getAttribute("data-points") ?? 0) > n, first, { timeout: 60_000 });
  assert.ok((await lossPoints(page)) > first, "the loss chart gained points while the run was going");

  await page.getByTestId("pause-experiment").click();
  await waitForStatus(page, "paused");
  const pausedPoints = await lossPoints(page);

  await page.getByTestId("resume-experiment").click();
  await waitForStatus(page, "running");
  // The resumed attempt trains on from its checkpoint: new points arrive after the paused ones.
  await page.waitForFunction((n) => Number(document.querySelector('figure[aria-label="loss"]')?.getAttribute("data-points") ?? 0) > n, pausedPoints, { timeout: 60_000 });

  await page.getByTestId("stop-experiment").click();
  await waitForStatus(page, "stopped");
  assert.match((await page.getByTestId("log-console").textContent()) ?? "", /Epoch \[\d+\/200\]/);
  await context.close();
});
