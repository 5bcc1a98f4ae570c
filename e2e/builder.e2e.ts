import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { zipFolder } from "../server/datasets/testing";
import { writeShapesDataset } from "../server/ml/detect/testing/shapes-dataset";
import { YOLOV8_YAML } from "../server/ml/zoo/yolov8-yaml";
import { baseUrl, launchBrowser, logIn } from "./browser";

let browser: Browser;
let zipFile: string;

before(async () => {
  browser = await launchBrowser();
  const work = await mkdtemp(path.join(os.tmpdir(), "e2e-builder-"));
  const root = path.join(work, "shapes");
  await writeShapesDataset(root, { train: 8, val: 4, seed: 3, classes: 2, minSize: 48, maxSize: 64 });
  zipFile = await zipFolder(root, path.join(work, "shapes-yolo.zip"));
});
after(() => browser.close());

async function centre(page: Page, testId: string) {
  const box = await page.getByTestId(testId).boundingBox();
  assert.ok(box, `${testId} is on the page`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** A real pointer drag: press, move in steps, release. */
async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
}

/** Finds the type with the palette's search (the list is longer than the panel) and drags it to `to`. */
async function dragFromPalette(page: Page, type: string, to: { x: number; y: number }) {
  await page.getByLabel("Search layers", { exact: true }).fill(type);
  await drag(page, await centre(page, `palette-${type}`), to);
  await page.getByLabel("Search layers", { exact: true }).fill("");
}

async function connect(page: Page, source: string, target: string) {
  await drag(page, await centre(page, `out-${source}`), await centre(page, `in-${target}`));
}

const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).textContent()) ?? "").trim();

async function waitText(page: Page, testId: string, expected: string) {
  await page.waitForFunction(([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() === want, [testId, expected] as const, { timeout: 15_000 });
}

test("build a graph with the pointer, see shapes and errors live, undo, import a YOLOv8 YAML, save and train it", async () => {
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
  const page = await context.newPage();
  await logIn(page);

  const datasetName = `builder-yolo-${Date.now()}`;
  await page.goto(`${baseUrl}/datasets`);
  await page.getByLabel("dataset name", { exact: true }).fill(datasetName);
  await page.getByLabel("zip file").setInputFiles(zipFile);
  await page.getByRole("button", { name: /upload \.zip|上传 \.zip/i }).click();
  await page.getByTestId("dataset-row").filter({ hasText: datasetName }).getByText("ready").waitFor({ timeout: 60_000 });

  await page.goto(`${baseUrl}/architectures`);
  // The starter graph: input → conv1 (16 filters, padding 1) → gap → fc, analysed at imgsz 64.
  await waitText(page, "shape-conv1", "[64×64×16]");

  // Drag a Conv2d from the palette onto the right of the canvas and connect conv1 to it.
  const canvas = await page.getByTestId("canvas").boundingBox();
  assert.ok(canvas);
  await dragFromPalette(page, "Conv2d", { x: canvas.x + canvas.width - 160, y: canvas.y + 90 });
  await page.getByTestId("node-conv2d_1").waitFor();
  await connect(page, "conv1", "conv2d_1");
  // No filters yet: the compiler's message is drawn on the node.
  await page.waitForFunction(() => /filters/.test(document.querySelector('[data-testid="node-conv2d_1"]')?.getAttribute("data-error") ?? ""));
  await page.getByTestId("node-conv2d_1").click();
  await page.locator("#field-filters").fill("16");
  await waitText(page, "shape-conv2d_1", "[64×64×16]");

  // An Add of conv1 and conv2d_1 is fine while their shapes agree.
  await dragFromPalette(page, "Add", { x: canvas.x + canvas.width - 200, y: canvas.y + canvas.height - 200 });
  await page.getByTestId("node-add_1").waitFor();
  await connect(page, "conv1", "add_1");
  await connect(page, "conv2d_1", "add_1");
  await waitText(page, "shape-add_1", "[64×64×16]");

  // Change the kernel size: the shape follows, and the Add reports the mismatch on its node.
  await page.getByTestId("node-conv2d_1").click();
  await page.locator("#field-padding").fill("valid");
  await page.locator("#field-kernel_size").fill("5");
  await waitText(page, "shape-conv2d_1", "[60×60×16]");
  await page.waitForFunction(() => /same shape/.test(document.querySelector('[data-testid="node-add_1"]')?.getAttribute("data-error") ?? ""));

  // Undo twice (kernel size, then padding) from the keyboard: the shapes agree again.
  await page.mouse.click(canvas.x + 30, canvas.y + 30);
  await page.keyboard.press("Control+z");
  await waitText(page, "shape-conv2d_1", "[62×62×16]");
  await page.keyboard.press("Control+z");
  await waitText(page, "shape-conv2d_1", "[64×64×16]");
  await page.waitForFunction(() => document.querySelector('[data-testid="node-add_1"]')?.getAttribute("data-error") === null);

  // Import yolov8.yaml at scale n: Ultralytics' own counts.
  await page.getByLabel("YAML text", { exact: true }).fill(YOLOV8_YAML);
  await page.getByLabel("Scale", { exact: true }).last().selectOption("n");
  await page.getByRole("button", { name: /^import yaml$|^导入 yaml$/i }).click();
  await page.getByTestId("node-detect").waitFor();
  await waitText(page, "total-params", "3,157,184");
  assert.match(await text(page, "ultralytics-line"), /3,157,200 parameters, 3,157,184 gradients, 8\.9 GFLOPs/);
  // A C2f block unfolds into the layers the engine runs.
  await page.getByTestId("node-b2").getByRole("button").click();
  await page.locator('[data-id="inner:b2_cv1_conv"]').waitFor();

  const name = `yolov8n-built-${Date.now()}`;
  await page.getByLabel("architecture name").fill(name);
  await page.getByRole("button", { name: /^save$|^保存$/i }).click();
  await page.getByTestId("architecture-row").filter({ hasText: name }).waitFor();

  // After a reload the saved graph opens with its total.
  await page.reload();
  await page.getByTestId("architecture-row").filter({ hasText: name }).getByRole("button", { name }).click();
  await page.getByTestId("node-detect").waitFor();
  await waitText(page, "total-params", "3,157,184");

  // Train this: the new-experiment form with the architecture chosen.
  await page.getByTestId("train-this").click();
  await page.waitForURL(/\/experiments\/new\?architecture=\d+/);
  await page.waitForFunction(() => (document.querySelector('input[aria-label="epochs"]') as HTMLInputElement | null)?.value === "10");
  const datasetOption = page.getByLabel("dataset", { exact: true }).locator("option", { hasText: datasetName });
  await datasetOption.waitFor({ state: "attached" });
  await page.getByLabel("dataset", { exact: true }).selectOption((await datasetOption.getAttribute("value"))!);
  await page.waitForFunction(() => /^arch:\d+$/.test((document.querySelector('select[aria-label="model"]') as HTMLSelectElement | null)?.value ?? ""));
  await page.getByLabel("experiment name").fill(`e2e-built-${Date.now()}`);
  await page.getByLabel("epochs", { exact: true }).fill("1");
  await page.getByLabel("batch", { exact: true }).fill("4");
  await page.getByLabel("imgsz", { exact: true }).fill("64");
  await page.getByTestId("create-experiment").click();
  await page.waitForURL(/\/experiments\/\d+$/);
  await page.getByTestId("experiment-status").filter({ hasText: /^(queued|running|completed)$/ }).waitFor({ timeout: 60_000 });
  const stop = page.getByTestId("stop-experiment");
  if (await stop.isEnabled().catch(() => false)) await stop.click();
  await context.close();
});
