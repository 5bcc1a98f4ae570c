import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { zipFolder } from "../server/datasets/testing";
import { writeShapesDataset } from "../server/ml/detect/testing/shapes-dataset";
import { baseUrl, launchBrowser, logIn } from "./browser";

let browser: Browser;
let zipFile: string;

before(async () => {
  browser = await launchBrowser();
  const work = await mkdtemp(path.join(os.tmpdir(), "e2e-detection-"));
  const root = path.join(work, "shapes");
  await writeShapesDataset(root, { train: 12, val: 6, seed: 2, classes: 2, minSize: 48, maxSize: 64 });
  zipFile = await zipFolder(root, path.join(work, "shapes-yolo.zip"));
});
after(() => browser.close());

test("import a YOLO dataset, train yolov8n on it from the page and see its mAP", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page);

  const datasetName = `yolo-shapes-${Date.now()}`;
  await page.goto(`${baseUrl}/datasets`);
  await page.getByLabel("dataset name", { exact: true }).fill(datasetName);
  await page.getByLabel("zip file").setInputFiles(zipFile);
  await page.getByRole("button", { name: /upload \.zip|上传 \.zip/i }).click();
  const row = page.getByTestId("dataset-row").filter({ hasText: datasetName });
  await row.getByText("ready").waitFor({ timeout: 60_000 });
  assert.match((await row.textContent()) ?? "", /detect/);

  // A thumbnail opens the image with its boxes, each named by its class.
  await row.click();
  await page.getByTestId("thumbnail").first().click();
  const label = page.getByTestId("box-label").first();
  await label.waitFor();
  assert.match((await label.textContent()) ?? "", /^(red_square|green_circle)$/);

  await page.goto(`${baseUrl}/experiments/new`);
  await page.waitForFunction(() => (document.querySelector('input[aria-label="epochs"]') as HTMLInputElement | null)?.value === "10");
  const datasetOption = page.getByLabel("dataset", { exact: true }).locator("option", { hasText: datasetName });
  await datasetOption.waitFor({ state: "attached" });
  await page.getByLabel("dataset", { exact: true }).selectOption((await datasetOption.getAttribute("value"))!);
  await page.getByLabel("model", { exact: true }).selectOption("zoo:yolov8n");
  // A detection model brings its own fields and input size.
  await page.getByLabel("close_mosaic", { exact: true }).waitFor();
  assert.equal(await page.getByLabel("imgsz", { exact: true }).inputValue(), "640");
  await page.getByLabel("experiment name").fill(`e2e-yolo-${Date.now()}`);
  await page.getByLabel("epochs", { exact: true }).fill("2");
  await page.getByLabel("batch", { exact: true }).fill("4");
  await page.getByLabel("imgsz", { exact: true }).fill("64");
  await page.getByLabel("close_mosaic", { exact: true }).fill("1");
  await page.getByTestId("create-experiment").click();
  await page.waitForURL(/\/experiments\/\d+$/);

  await page.getByTestId("experiment-status").filter({ hasText: /^completed$/ }).waitFor({ timeout: 180_000 });
  const metrics = page.getByRole("figure", { name: "metrics", exact: true });
  await page.waitForFunction(() => Number(document.querySelector('figure[aria-label="metrics"]')?.getAttribute("data-points") ?? 0) > 0, null, { timeout: 10_000 });
  assert.match((await metrics.textContent()) ?? "", /mAP50/);
  const log = (await page.getByTestId("log-console").textContent()) ?? "";
  assert.match(log, /Validation P: [\d.]+, R: [\d.]+, mAP50: [\d.]+, mAP50-95: [\d.]+/);
  assert.match(log, /Epoch \[2\/2\]/);

  // The run drew Ultralytics' plots; the page shows them, served to this logged-in browser.
  const curve = page.getByTestId("plot-thumbnail").filter({ hasText: "PR_curve" }).locator("img");
  await curve.waitFor({ timeout: 20_000 });
  await curve.scrollIntoViewIfNeeded();
  await page.waitForFunction((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0, await curve.elementHandle(), { timeout: 10_000 });
  await context.close();
});
