import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { inferenceFixture, testImage } from "../server/inference/testing";
import { baseUrl, launchBrowser, logIn } from "./browser";
import { writeYolov8nCheckpoint } from "./weights-fixture";

let browser: Browser;
let checkpoint: string;

before(async () => {
  browser = await launchBrowser();
  checkpoint = await writeYolov8nCheckpoint(path.join(await mkdtemp(path.join(os.tmpdir(), "e2e-inference-")), "yolov8n-infer.pt"));
});
after(() => browser.close());

/** Uploads through the Weights page, as a user does; answers the entry's name. */
async function upload(page: Page, file: string, name: string): Promise<void> {
  await page.goto(`${baseUrl}/weights`);
  await page.getByLabel("weights file").setInputFiles(file);
  await page.getByLabel("weights name").fill(name);
  await page.getByRole("form", { name: /upload|上传/i }).getByRole("button", { name: /upload|上传/i }).click();
  await page.getByTestId("weights-detail").getByRole("heading", { name: new RegExp(name) }).waitFor({ timeout: 60_000 });
}

/** Drops `png` on the page's drop zone, as a file dragged from the desktop is. */
async function dropImage(page: Page, png: Buffer, name: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ base64, fileName }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], fileName, { type: "image/png" }));
      return transfer;
    },
    { base64: png.toString("base64"), fileName: name },
  );
  await page.getByTestId("inference-dropzone").dispatchEvent("drop", { dataTransfer });
}

async function pick(page: Page, entryName: string): Promise<void> {
  const option = page.getByTestId("inference-weights").locator("option", { hasText: entryName });
  await option.waitFor({ state: "attached" });
  await page.getByTestId("inference-weights").selectOption((await option.getAttribute("value"))!);
}

test("pick the uploaded .pt on the Inference page, drop an image: boxes drawn, results table, sliders re-run", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page);
  const name = `infer-yolo-${Date.now()}`;
  await upload(page, checkpoint, name);

  await page.goto(`${baseUrl}/inference`);
  await pick(page, name);
  await dropImage(page, await testImage(160, 120), "street.png");
  const result = page.getByTestId("inference-result");
  // The first request exports the .pt to ONNX once, then runs it.
  await result.getByTestId("inference-table").waitFor({ timeout: 180_000 });
  assert.match((await result.locator("h2").textContent()) ?? "", /street\.png/);
  const image = result.locator("img");
  await page.waitForFunction((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth === 160, await image.elementHandle());
  assert.match((await image.getAttribute("src")) ?? "", /^data:image\/jpeg;base64,/);
  const rows = result.getByTestId("inference-table").locator("tbody tr");
  assert.ok((await rows.count()) > 0);
  assert.match((await rows.first().textContent()) ?? "", /^(person|bicycle|car|thing\d+)0\.\d{3}\d+, \d+, \d+, \d+$/);
  assert.match((await page.getByTestId("inference-page").textContent()) ?? "", /Provider: cpu · imgsz 128×128/);

  // A stricter confidence re-runs the same image: these generated weights are nowhere near 0.99 sure.
  await page.getByTestId("inference-conf").fill("0.99");
  await result.getByTestId("inference-table").getByText("No detections").waitFor({ timeout: 30_000 });
  assert.equal(await rows.count(), 1);
  await page.getByTestId("inference-download").waitFor();
  await context.close();
});

test("a classifier's answer is drawn as class bars", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page);
  const name = `infer-classifier-${Date.now()}`;
  await upload(page, inferenceFixture("torchvision_classify.onnx"), name);
  await page.goto(`${baseUrl}/inference`);
  await pick(page, name);
  await page.getByTestId("inference-files").setInputFiles({ name: "cat.png", mimeType: "image/png", buffer: await testImage(96, 96, 2) });
  const bars = page.getByTestId("inference-result").getByTestId("inference-class-bar");
  await bars.first().waitFor({ timeout: 60_000 });
  assert.ok((await bars.count()) >= 1);
  assert.match((await bars.first().textContent()) ?? "", /0\.\d{3}/);
  await context.close();
});
