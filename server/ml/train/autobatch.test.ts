import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend, type BackendInfo } from "../backend/index";
import { makeShapesImageFolder } from "../data/testing/shapes";
import { compileGraph } from "../graph/index";
import { zooGraph } from "../zoo/index";
import { batchForBudget, fitLinear, measureBatchFit, memoryBudget } from "./autobatch";
import { readCheckpointHeader } from "./checkpoint";
import { parseTrainConfig } from "./config";
import { train, type TrainEvent } from "./loop";

let wasm: BackendInfo;
let data: string;
let runsDir: string;

beforeAll(async () => {
  wasm = await initBackend("wasm");
  const root = await mkdtemp(path.join(os.tmpdir(), "autobatch-test-"));
  data = path.join(root, "shapes");
  runsDir = path.join(root, "runs");
  await makeShapesImageFolder(data, { classes: 3, perClass: 20, size: 32, seed: 5 });
}, 60_000);

describe("the AutoBatch fit", () => {
  it("fits memory = intercept + slope · batch and solves it for 60% of the free memory", () => {
    const samples = [1, 2, 4, 8, 16].map((batch) => ({ batch, peakBytes: 10e6 + 3e6 * batch }));
    expect(fitLinear(samples)).toEqual({ slope: expect.closeTo(3e6, 3), intercept: expect.closeTo(10e6, 0) });
    // (1 GB · 0.6 − 10 MB) / 3 MB = 196.67 → 196
    expect(batchForBudget(samples, 1e9).perThread).toBe(196);
    // Never below 1 image, never above 1024.
    expect(batchForBudget(samples, 1e6).perThread).toBe(1);
    expect(batchForBudget(samples, 1e13).perThread).toBe(1024);
  });

  it("reads a fit that does not grow with the batch proportionally, never as unbounded", () => {
    const flat = [{ batch: 1, peakBytes: 8e6 }, { batch: 2, peakBytes: 8e6 }];
    expect(batchForBudget(flat, 1e9)).toMatchObject({ bytesPerImage: 8e6, interceptBytes: 0, perThread: 75 });
  });

  it("accepts batch -1 and nothing else below 1", () => {
    expect(parseTrainConfig({ data: "d", model: "m", batch: -1 }).batch).toBe(-1);
    expect(() => parseTrainConfig({ data: "d", model: "m", batch: 0 })).toThrow(/batch must be ≥ 1, or -1 for AutoBatch/);
    expect(() => parseTrainConfig({ data: "d", model: "m", batch: -2 })).toThrow(/-1 for AutoBatch/);
  });
});

describe("AutoBatch on a real model (WASM)", () => {
  it("predicts the memory of the batch it picks: a real step at that batch uses about the target share", async () => {
    const model = compileGraph(zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 }), { inputShape: [32, 32, 3] });
    try {
      const real = await memoryBudget(wasm);
      expect(real.what).toMatch(/WebAssembly heap/);
      expect(real.freeBytes).toBeGreaterThan(3 * 2 ** 30);
      // A budget a few dozen images big, so the pick lands inside the measured range's trend.
      const one = (await measureBatchFit({ model, inputShape: [32, 32, 3], backend: wasm, budget: { ...real, freeBytes: 2 ** 30 } })).samples[0].peakBytes;
      const budget = { ...real, freeBytes: one * 60 };
      const fit = await measureBatchFit({ model, inputShape: [32, 32, 3], backend: wasm, budget });
      expect(fit.samples.map((s) => s.batch)).toEqual([1, 2, 4, 8, 16]);
      expect(fit.bytesPerImage).toBeGreaterThan(0);
      const check = await measureBatchFit({ model, inputShape: [32, 32, 3], backend: wasm, budget: { ...real, freeBytes: 2 ** 31 } });
      const predicted = fit.interceptBytes + fit.bytesPerImage * fit.perThread;
      expect(predicted).toBeLessThanOrEqual(budget.freeBytes * 0.6 + fit.bytesPerImage);
      // The same fit from an independent measurement predicts within 15%.
      expect(Math.abs(check.interceptBytes + check.bytesPerImage * fit.perThread - predicted) / predicted).toBeLessThan(0.15);
      // Measuring leaves the weights (BatchNorm statistics too) and no tensors behind.
      const before = tf.memory().numTensors;
      await measureBatchFit({ model, inputShape: [32, 32, 3], backend: wasm, budget });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  }, 120_000);

  it("trains with batch -1: picks, confirms with one real step, logs and keeps the choice in args.json and the checkpoint", async () => {
    const events: TrainEvent[] = [];
    const result = await train(
      { data, model: "reference-cnn", imgsz: 32, batch: -1, epochs: 1, device: "wasm", runsDir, project: "autobatch", name: "auto", warmup_epochs: 0 },
      { onEvent: (e) => void events.push(e) },
    );
    expect(result.status).toBe("completed");
    const lines = events.flatMap((e) => (e.type === "log" ? [e.message] : []));
    expect(lines.some((l) => /^AutoBatch: a training step on WebAssembly heap/.test(l))).toBe(true);
    const chosen = lines.find((l) => /^AutoBatch: batch \d+/.test(l));
    expect(chosen).toMatch(/confirmed by one real step that peaked at/);
    const args = JSON.parse(await readFile(path.join(result.runDir, "args.json"), "utf8"));
    expect(args.batch).toBeGreaterThanOrEqual(1);
    expect(chosen).toContain(`batch ${args.batch}`);
    expect(args.autobatch).toMatchObject({ fraction: 0.6, batch: args.batch, samples: expect.any(Array), confirmedPeakBytes: expect.any(Number) });
    // The training set has 3 × 20 × 0.8 ≈ 48 images: a larger batch would only repeat them.
    expect(args.batch).toBeLessThanOrEqual(args.autobatch.workers * Math.ceil(60 / args.autobatch.workers));
    const header = await readCheckpointHeader(result.lastCheckpoint);
    expect(header.config.batch).toBe(args.batch);
  }, 300_000);
});
