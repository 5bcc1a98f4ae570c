import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { writeTree, zipFolder } from "../server/datasets/testing";
import { shapeImage } from "./shape-images";
import { admin, baseUrl, launchBrowser, logIn } from "./browser";

let browser: Browser;
let zipFile: string;

before(async () => {
  browser = await launchBrowser();
  const work = await mkdtemp(path.join(os.tmpdir(), "e2e-analysis-"));
  const files: Record<string, Buffer> = {};
  for (const shape of ["circle", "square", "triangle"] as const) {
    for (let i = 0; i < 16; i++) files[`${i < 12 ? "train" : "val"}/${shape}/${i}.png`] = await shapeImage(shape, i);
  }
  zipFile = await zipFolder(await writeTree(path.join(work, "shapes"), files), path.join(work, "shapes.zip"));
});
after(() => browser.close());

async function api(page: Page, token: string, method: "GET" | "POST", url: string, body?: unknown) {
  const res = await page.request.fetch(`${baseUrl}${url}`, { method, headers: { authorization: `Bearer ${token}` }, ...(body !== undefined && { data: body }) });
  assert.ok(res.ok(), `${method} ${url}: ${res.status()} ${await res.text()}`);
  return res.json();
}

test("click a confusion-matrix cell and see its images; diff two runs and see a regression side by side", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page);

  const datasetName = `analysis-shapes-${Date.now()}`;
  await page.goto(`${baseUrl}/datasets`);
  await page.getByLabel("dataset name", { exact: true }).fill(datasetName);
  await page.getByLabel("zip file").setInputFiles(zipFile);
  await page.getByRole("button", { name: /upload \.zip|上传 \.zip/i }).click();
  await page.getByTestId("dataset-row").filter({ hasText: datasetName }).getByText("ready").waitFor({ timeout: 60_000 });

  // Two runs through seed 002: a trained one, and one that barely moved from its random start.
  const login = await page.request.post(`${baseUrl}/api/v1/auth/login`, { data: { email: admin.email, password: admin.password } });
  const { token } = (await login.json()) as { token: string };
  const datasets: { items: { id: number; name: string }[] } = await api(page, token, "GET", `/api/v1/datasets?size=100`);
  const datasetId = datasets.items.find((d) => d.name === datasetName)!.id;
  const create = (name: string, hyperparams: Record<string, unknown>) => api(page, token, "POST", "/api/v1/experiments", { name, dataset_id: datasetId, model_arch_id: "reference-cnn", hyperparams: { batch: 8, imgsz: 32, ...hyperparams } });
  const good = await create(`good-${Date.now()}`, { epochs: 12 });
  const poor = await create(`poor-${Date.now()}`, { epochs: 1, lr0: 1e-7 });

  // Each run's best epoch is validated when it ends: its page shows the confusion matrix.
  await page.goto(`${baseUrl}/experiments/${poor.id}`);
  await page.getByTestId("experiment-status").filter({ hasText: /^completed$/ }).waitFor({ timeout: 240_000 });
  await page.getByTestId("confusion-matrix").waitFor({ timeout: 120_000 });
  const cells = page.locator('[data-testid="confusion-cell"]:not([disabled])');
  const count = await cells.count();
  let wrong = -1;
  for (let i = 0; i < count; i++) {
    const cell = cells.nth(i);
    if ((await cell.getAttribute("data-predicted")) !== (await cell.getAttribute("data-actual"))) wrong = i;
  }
  const cell = cells.nth(wrong >= 0 ? wrong : 0);
  const expected = Number(await cell.textContent());
  await cell.click();
  await page.getByTestId("cell-caption").waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="analysis-image"]').length === Math.min(n, 12), expected, { timeout: 20_000 });
  const first = page.getByTestId("analysis-image").first().locator("img");
  await page.waitForFunction((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0, await first.elementHandle(), { timeout: 10_000 });
  assert.match((await page.getByTestId("analysis-image").first().textContent()) ?? "", /true: \w+ · predicted: \w+/);

  // The trained run, then the diff: images the poor run gets wrong and the good one right are regressions of B.
  await page.goto(`${baseUrl}/experiments/${good.id}`);
  await page.getByTestId("experiment-status").filter({ hasText: /^completed$/ }).waitFor({ timeout: 240_000 });
  await page.getByTestId("confusion-matrix").waitFor({ timeout: 120_000 });
  await page.goto(`${baseUrl}/experiments/diff?a=${good.id}&b=${poor.id}&split=val`);
  const regressions = page.getByTestId("bucket-regressions");
  await regressions.waitFor({ timeout: 30_000 });
  const regressionCount = Number(((await regressions.textContent()) ?? "").match(/(\d+)\s*$/)?.[1]);
  assert.ok(regressionCount > 0, `the barely trained run has regressions (${await regressions.textContent()})`);
  await page.getByTestId("diff-metric").waitFor();
  assert.match((await page.getByTestId("diff-metric").textContent()) ?? "", /top1_acc: A [\d.]+ → B [\d.]+, change -[\d.]+ \(95% interval -?[\d.]+ … -?[\d.]+/);
  await page.getByTestId("diff-image-row").first().getByRole("button").click();
  const sides = page.getByTestId("side-by-side");
  await sides.waitFor();
  await sides.getByTestId("side-a").getByTestId("judged-image").waitFor();
  await sides.getByTestId("side-b").getByTestId("judged-image").waitFor();
  assert.equal(await sides.getByTestId("judged-image").count(), 2);
  assert.match((await sides.getByTestId("side-a").textContent()) ?? "", /true: (\w+) · predicted: \1/);

  // The same diff for scripts.
  const diff = await api(page, token, "GET", `/api/v1/experiments/${good.id}/diff/${poor.id}?split=val`);
  assert.equal(diff.regressions.length, regressionCount);
  assert.equal(diff.metric.name, "top1_acc");
  await context.close();
});
