import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { solidImage, writeTree, zipFolder } from "../server/datasets/testing";
import { baseUrl, launchBrowser, logIn } from "./browser";

let browser: Browser;
let zipFile: string;

before(async () => {
  browser = await launchBrowser();
  const work = await mkdtemp(path.join(os.tmpdir(), "e2e-datasets-"));
  // Enough images that the import is still running when the page first shows it.
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 150; i++) files[`${i % 2 ? "cat" : "dog"}/${i}.png`] = await solidImage(32 + (i % 3) * 16, 32, [i, 255 - i, (i * 7) % 255]);
  zipFile = await zipFolder(await writeTree(path.join(work, "pets"), files), path.join(work, "pets.zip"));
});
after(() => browser.close());

test("upload a zip, watch the import, see statistics and thumbnails, preview a pipeline, delete the dataset", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("dialog", (dialog) => dialog.accept());
  await logIn(page);
  await page.goto(`${baseUrl}/datasets`);
  const name = `pets-${Date.now()}`;
  await page.getByLabel("dataset name", { exact: true }).fill(name);
  await page.getByLabel("zip file").setInputFiles(zipFile);
  await page.getByRole("button", { name: /upload \.zip|上传 \.zip/i }).click();

  const row = page.getByTestId("dataset-row").filter({ hasText: name });
  await row.getByTestId("import-progress").waitFor({ timeout: 30_000 });
  await row.getByText("ready").waitFor({ timeout: 120_000 });

  const detail = page.getByTestId("dataset-detail");
  await detail.getByTestId("dataset-stats").waitFor();
  assert.equal(await detail.getByTestId("stat-images").textContent(), "150");
  assert.deepEqual(await detail.getByTestId("class-row").allTextContents(), ["cat7575", "dog7575"]);
  const thumb = detail.getByTestId("thumbnail").first().locator("img");
  await thumb.waitFor();
  await page.waitForFunction((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0, await thumb.elementHandle());
  assert.equal(await detail.getByTestId("thumbnail").count(), 24);

  await page.goto(`${baseUrl}/augmentations`);
  await page.getByLabel("pipeline name").fill(`flip-${Date.now()}`);
  // Op cards come from the op library's schemas: a probability and each parameter as a field.
  await page.getByLabel("add op").selectOption("brightness");
  await page.getByLabel("add op").selectOption("hflip");
  await page.getByLabel("hflip p", { exact: true }).fill("1");
  await page.getByLabel("brightness p", { exact: true }).fill("1");
  await page.getByLabel("brightness amount", { exact: true }).fill("0.3");
  // Drag hflip's card above brightness by its handle.
  const handle = await page.getByTestId("op-handle").nth(1).boundingBox();
  const first = await page.getByTestId("op-card").first().boundingBox();
  await page.mouse.move(handle!.x + handle!.width / 2, handle!.y + handle!.height / 2);
  await page.mouse.down();
  await page.mouse.move(first!.x + 40, first!.y + 5, { steps: 6 });
  await page.mouse.up();
  assert.deepEqual(await page.getByTestId("op-card").evaluateAll((cards) => cards.map((c) => c.getAttribute("data-op"))), ["hflip", "brightness"]);
  assert.deepEqual(JSON.parse((await page.getByLabel("pipeline json").textContent()) ?? ""), [{ op: "hflip", p: 1 }, { op: "brightness", p: 1, amount: 0.3 }]);
  await page.getByRole("button", { name: /^save$|^保存$/i }).click();
  await page.getByTestId("pipeline-item").first().waitFor();
  // The preview beside the cards follows the pipeline without a click.
  await page.getByLabel("preview dataset").selectOption({ label: name });
  await page.getByTestId("preview-sample").first().waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId("preview-sample").first().locator("img").count(), 4);

  await page.goto(`${baseUrl}/datasets`);
  await page.getByTestId("dataset-row").filter({ hasText: name }).click();
  await page.getByTestId("dataset-detail").getByRole("button", { name: /^delete$|^删除$/i }).click();
  await page.getByTestId("dataset-row").filter({ hasText: name }).waitFor({ state: "detached" });
  await context.close();
});
