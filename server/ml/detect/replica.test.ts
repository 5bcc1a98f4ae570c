import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendInfo } from "../backend/index";
import type { DetectBatch } from "../data/detect-loader";
import { TrainOptimizer, type TrainableVariable } from "../train/optimizers";
import { createTrainStepper } from "../train/stepper";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { buildDetectModel } from "./adapter";
import { decodeBoxes, detectStepAdapter, encodeBoxes } from "./replica";

const IMGSZ = 64;
const CLASSES = ["circle", "square"];

function detectBatch(size: number, seed: number): DetectBatch {
  const x = tf.tidy(() => tf.randomUniform([size, IMGSZ, IMGSZ, 3], 0, 1, "float32", seed).dataSync() as Float32Array);
  // Image 1 has no objects (background only).
  const boxes = Array.from({ length: size }, (_, i) =>
    i === 1 ? [] : Array.from({ length: 1 + (i % 3) }, (_, k) => ({ cls: (i + k) % CLASSES.length, x: 0.3 + 0.2 * k, y: 0.4 + 0.05 * i, w: 0.25, h: 0.2 + 0.05 * k })),
  );
  return { x, boxes, paths: boxes.map((_, i) => `image-${seed}-${i}.png`), size, imgsz: IMGSZ };
}

const adapter = detectStepAdapter({ numClasses: CLASSES.length, imgsz: IMGSZ });

async function trainWith(workers: number, microBatch: number, backend: BackendInfo, batches: DetectBatch[]) {
  const { model } = buildDetectModel(yolov8Graph({ numClasses: CLASSES.length, scale: YOLOV8_SCALES.n, width: 0.125 }), IMGSZ, CLASSES, 0);
  const trainable: TrainableVariable[] = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  // SGD: Adam would magnify float noise in near-zero gradients into whole steps.
  const optimizer = new TrainOptimizer({ name: "SGD", momentum: 0.9, nesterov: false, weightDecay: 5e-4 });
  const stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: 10, workers, microBatch, backend });
  const initial = model.trainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);
  try {
    const metrics = [];
    for (const b of batches) metrics.push(await stepper.step(b, 0.01));
    const trained = model.trainableWeights.map((w) => ({ name: w.originalName, values: w.read().dataSync() as Float32Array }));
    const moved = Math.max(...trained.map(({ values }, w) => values.reduce((max, v, i) => Math.max(max, Math.abs(v - initial[w][i])), 0)));
    return { metrics, trainable: trained, moved };
  } finally {
    await stepper.close();
    optimizer.dispose();
    model.dispose();
  }
}

describe("detection on training worker threads", () => {
  let wasm: BackendInfo;
  beforeAll(async () => {
    wasm = await initBackend("wasm");
  });

  it("sends boxes to worker threads and back unchanged, images without boxes included", () => {
    const batch = detectBatch(4, 1);
    const rows = encodeBoxes(batch.boxes);
    const decoded = decodeBoxes(rows, 4);
    expect(decoded[1]).toEqual([]);
    decoded.forEach((boxes, i) => boxes.forEach((b, k) => {
      const original = batch.boxes[i][k];
      expect(b.cls).toBe(original.cls);
      for (const key of ["x", "y", "w", "h"] as const) expect(b[key]).toBeCloseTo(original[key], 6);
    }));
    expect(() => decodeBoxes(new Int32Array(6), 1)).toThrow(/Float32Array rows/);
  });

  it("a second thread computes the same per-image gradients and loss parts as this one", async () => {
    // One image per pass on both sides, so both sum the same per-image gradients; only who computes them differs.
    const batches = [detectBatch(4, 1), detectBatch(3, 2)];
    const alone = await trainWith(1, 1, wasm, batches);
    const shared = await trainWith(2, 1, wasm, batches);
    for (const [s, metrics] of alone.metrics.entries()) {
      expect(Object.keys(metrics).sort()).toEqual(["box_loss", "cls_loss", "dfl_loss", "loss"]);
      for (const [name, value] of Object.entries(metrics)) {
        expect(Number.isFinite(value) && value > 0, `step ${s} ${name}`).toBe(true);
        expect(shared.metrics[s][name], `step ${s} ${name}`).toBeCloseTo(value, 4);
      }
    }
    expect(alone.moved).toBeGreaterThan(1e-3);
    for (const [w, { name, values }] of alone.trainable.entries()) {
      const worst = values.reduce((max, v, i) => Math.max(max, Math.abs(v - shared.trainable[w].values[i])), 0);
      expect(worst, name).toBeLessThan(1e-4);
    }
  });
});
