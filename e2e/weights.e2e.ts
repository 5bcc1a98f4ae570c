import assert from "node:assert/strict";
import crypto from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { baseUrl, launchBrowser, logIn } from "./browser";
import { writeYolov8nCheckpoint } from "./weights-fixture";

let browser: Browser;
let checkpoint: string;

before(async () => {
  browser = await launchBrowser();
  checkpoint = await writeYolov8nCheckpoint(path.join(await mkdtemp(path.join(os.tmpdir(), "e2e-weights-")), "yolov8n-e2e.pt"));
});
after(() => browser.close());

test("upload a .pt, see its classes, export it to ONNX with a parity report, download the export, delete it", async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.on("dialog", (dialog) => void dialog.accept());
  await logIn(page);
  await page.goto(`${baseUrl}/weights`);

  const name = `yolo-e2e-${Date.now()}`;
  await page.getByLabel("weights file").setInputFiles(checkpoint);
  await page.getByLabel("weights name").fill(name);
  await page.getByRole("form", { name: /upload|上传/i }).getByRole("button", { name: /upload|上传/i }).click();

  // The upload opens its entry: what the file says, read without running its pickle.
  const detail = page.getByTestId("weights-detail");
  await detail.getByRole("heading", { name: new RegExp(name) }).waitFor({ timeout: 60_000 });
  const classes = (await detail.getByTestId("weights-classes").textContent()) ?? "";
  assert.match(classes, /\(80\)/);
  assert.match(classes, /person, bicycle, car, thing3/);
  assert.match((await detail.textContent()) ?? "", /imgsz 128×128/);
  assert.equal(await page.getByTestId("weights-row").filter({ hasText: name }).count(), 1);

  // Export to ONNX: the child entry opens and shows its parity report once the job is done.
  await detail.getByTestId("weights-export").getByRole("button", { name: /export|导出/i }).click();
  const report = page.getByTestId("parity-report");
  await report.waitFor({ timeout: 180_000 });
  const reportText = (await report.textContent()) ?? "";
  assert.match(reportText, /passed|通过/, reportText);
  assert.match(reportText, /fp32/);
  const exportName = `${name}-onnx`;
  assert.match((await page.getByTestId("weights-detail").getByRole("heading").first().textContent()) ?? "", new RegExp(`^${exportName} onnx detect`));

  // The download is the stored file, byte for byte.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("weights-detail").getByRole("link", { name: /download|下载/i }).click()]);
  const bytes = await readFile((await download.path())!);
  assert.ok(bytes.length > 1_000_000, `the ONNX file has ${bytes.length} bytes`);
  const sha = (await page.getByTestId("weights-detail").locator("code").first().textContent())!.replace("…", "");
  assert.ok(crypto.createHash("sha256").update(bytes).digest("hex").startsWith(sha));
  const downloadUrl = download.url();

  // Delete the export: gone from the list, and its file with it.
  await page.getByTestId("weights-detail").getByRole("button", { name: /delete|删除/i }).click();
  await page.getByTestId("weights-row").filter({ hasText: exportName }).waitFor({ state: "detached", timeout: 15_000 });
  assert.equal((await page.request.get(downloadUrl)).status(), 404);
  assert.equal(await page.getByTestId("weights-row").filter({ hasText: name }).count(), 1, "the source .pt stays");
  await context.close();
});
