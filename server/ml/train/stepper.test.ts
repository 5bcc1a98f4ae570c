import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendInfo } from "../backend/index";
import { TrainConfigError } from "./config";
import type { Batch } from "../data/loader";
import { CLASSIFY_REPLICA_MODULE, classificationLoss, replicaInput, sliceBatch, trainAccuracy } from "./classify-loss";
import { TrainOptimizer, type TrainableVariable } from "./optimizers";
import { activationsPerImage, createTrainStepper, explainStepFailure, planRounds, resolveMicroBatch, resolveWorkers, shareSizes, type StepAdapter } from "./stepper";

const IMGSZ = 16;
const CLASSES = 3;

const adapter: StepAdapter<Batch> = {
  inputs: (batch) => tf.tensor4d(batch.x, [batch.size, batch.imgsz, batch.imgsz, 3]),
  loss: (outputs, batch) => classificationLoss(outputs as tf.Tensor, batch.y, CLASSES, 0.1, false),
  trainMetrics: (outputs, batch) => ({ acc: trainAccuracy(outputs as tf.Tensor, batch.y) }),
  dataParallel: {
    replicaTask: () => ({ module: CLASSIFY_REPLICA_MODULE, options: { numClasses: CLASSES, labelSmoothing: 0.1, probabilities: false } }),
    slice: sliceBatch,
    replicaInput,
  },
};

/** Conv → (BatchNorm) → ReLU → GAP → dense. */
function buildModel(batchNorm: boolean): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [IMGSZ, IMGSZ, 3], filters: 4, kernelSize: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      ...(batchNorm ? [tf.layers.batchNormalization({})] : []),
      tf.layers.reLU(),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

function batch(size: number, seed: number): Batch {
  const x = tf.tidy(() => tf.randomUniform([size, IMGSZ, IMGSZ, 3], 0, 1, "float32", seed).dataSync() as Float32Array);
  return { x, y: Int32Array.from({ length: size }, (_, i) => (i * 2 + seed) % CLASSES), size, imgsz: IMGSZ };
}

/** Trains a fresh model on `batches`; returns its weights (model.weights order) and each step's metrics. */
async function trainWith(workers: number, backend: BackendInfo, batches: Batch[], batchNorm = false, microBatch?: number) {
  const model = buildModel(batchNorm);
  const trainable: TrainableVariable[] = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  const optimizer = new TrainOptimizer({ name: "SGD", momentum: 0.9, nesterov: false, weightDecay: 5e-4 });
  const stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: 10, workers, microBatch, backend });
  try {
    const metrics = [];
    for (const b of batches) metrics.push(await stepper.step(b, 0.1));
    return { metrics, weights: model.weights.map((w) => ({ name: w.originalName, values: w.read().dataSync() as Float32Array })) };
  } finally {
    await stepper.close();
    optimizer.dispose();
    model.dispose();
  }
}

const worstDifference = (a: Float32Array, b: Float32Array) => a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);

let wasm: BackendInfo;
beforeAll(async () => {
  wasm = await initBackend("wasm");
});

describe("shareSizes", () => {
  it("splits contiguously, larger shares first, never an empty share", () => {
    expect(shareSizes(32, 2)).toEqual([16, 16]);
    expect(shareSizes(5, 2)).toEqual([3, 2]);
    expect(shareSizes(7, 3)).toEqual([3, 2, 2]);
    expect(shareSizes(1, 4)).toEqual([1]);
  });
});

describe("planRounds", () => {
  it("runs one share per thread and round, none larger than the micro-batch, in as few rounds as possible", () => {
    expect(planRounds(8, 1, Infinity)).toEqual([[8]]);
    expect(planRounds(8, 2, Infinity)).toEqual([[4, 4]]);
    expect(planRounds(8, 2, 1)).toEqual([[1, 1], [1, 1], [1, 1], [1, 1]]);
    expect(planRounds(5, 2, 2)).toEqual([[2, 1], [1, 1]]);
    expect(planRounds(7, 1, 3)).toEqual([[3], [2], [2]]);
    expect(planRounds(1, 4, 1)).toEqual([[1]]);
  });
});

describe("resolveMicroBatch", () => {
  const tensorflow: BackendInfo = { device: "cpu", backend: "tensorflow", threads: 8, description: "tensorflow (libtensorflow on CPU, 8 threads)" };
  const splits = { task: "classify", dataParallel: adapter.dataParallel };

  it('"auto" keeps the whole batch unless the WASM heap cannot hold its activations', () => {
    const small = buildModel(false);
    expect(resolveMicroBatch("auto", 32, wasm, small, splits)).toBe(32);
    // 4 x 1024² x 64 activations per image ≈ 268M values: more than a WASM heap holds for training at once.
    const large = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [1024, 1024, 3], filters: 64, kernelSize: 3, padding: "same" }), tf.layers.reLU(), tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: "same" }), tf.layers.reLU()] });
    expect(activationsPerImage(large)).toBe(4 * 1024 * 1024 * 64);
    expect(resolveMicroBatch("auto", 8, wasm, large, splits)).toBe(1);
    expect(resolveMicroBatch("auto", 8, tensorflow, large, splits)).toBe(8);
    small.dispose();
    large.dispose();
  });

  it("takes an explicit size, capped at the batch, and refuses one the task cannot split", () => {
    const model = buildModel(false);
    expect(resolveMicroBatch(4, 16, wasm, model, splits)).toBe(4);
    expect(resolveMicroBatch(64, 16, wasm, model, splits)).toBe(16);
    expect(() => resolveMicroBatch(4, 16, wasm, model, { task: "segment" })).toThrow(/micro_batch: segment training cannot split batches/);
    model.dispose();
  });
});

describe("explainStepFailure", () => {
  it("turns WASM running out of memory into a config error that says what to lower, and passes others on", () => {
    const oom = explainStepFailure(new Error("RuntimeError: memory access out of bounds"), wasm, 4);
    expect(oom).toBeInstanceOf(TrainConfigError);
    expect((oom as TrainConfigError).field).toBe("micro_batch");
    expect((oom as Error).message).toMatch(/out of WebAssembly memory .* 4 image\(s\) per pass: set micro_batch to 2 or lower/);
    expect((explainStepFailure(new Error("Aborted(). Build with -sASSERTIONS"), wasm, 1) as Error).message).toMatch(/lower imgsz/);
    const other = new Error("loss is NaN");
    expect(explainStepFailure(other, wasm, 4)).toBe(other);
    const tensorflow: BackendInfo = { device: "cpu", backend: "tensorflow", threads: 8, description: "tensorflow" };
    const native = new Error("memory access out of bounds");
    expect(explainStepFailure(native, tensorflow, 4)).toBe(native);
  });
});

describe("resolveWorkers", () => {
  const tensorflow: BackendInfo = { device: "cpu", backend: "tensorflow", threads: 8, description: "tensorflow (libtensorflow on CPU, 8 threads)" };

  it('"auto" uses several threads only for single-threaded backends and tasks that split batches', () => {
    expect(resolveWorkers("auto", wasm, { task: "classify", dataParallel: adapter.dataParallel })).toBeGreaterThanOrEqual(1);
    expect(resolveWorkers("auto", tensorflow, { task: "classify", dataParallel: adapter.dataParallel })).toBe(1);
    expect(resolveWorkers("auto", wasm, { task: "detect" })).toBe(1);
    expect(resolveWorkers(3, wasm, { task: "classify", dataParallel: adapter.dataParallel })).toBe(3);
  });

  it("refuses explicit thread counts that cannot work, saying why", () => {
    expect(() => resolveWorkers(2, tensorflow, { task: "classify", dataParallel: adapter.dataParallel })).toThrow(/workers: 2 threads need the wasm or cpu backend/);
    expect(() => resolveWorkers(2, wasm, { task: "detect" })).toThrow(/workers: detect training runs on one thread/);
  });
});

describe("createTrainStepper", () => {
  it("two threads apply the update of one thread: same weights, loss and accuracy, also for uneven and single-image batches", async () => {
    const batches = [batch(6, 1), batch(5, 2), batch(1, 3), batch(6, 4)];
    const one = await trainWith(1, wasm, batches);
    const two = await trainWith(2, wasm, batches);
    for (const [s, metrics] of one.metrics.entries()) {
      expect(two.metrics[s].loss, `step ${s} loss`).toBeCloseTo(metrics.loss, 5);
      expect(two.metrics[s].acc, `step ${s} acc`).toBeCloseTo(metrics.acc, 5);
    }
    for (const [w, { name, values }] of one.weights.entries()) {
      expect(worstDifference(two.weights[w].values, values), name).toBeLessThan(1e-5);
    }
    // The steps moved the weights.
    expect(worstDifference(one.weights[0].values, buildModel(false).weights[0].read().dataSync() as Float32Array)).toBeGreaterThan(1e-3);
  });

  it("micro-batches accumulate into the whole batch's update, on one thread and on two", async () => {
    const batches = [batch(6, 1), batch(5, 2), batch(6, 4)];
    const whole = await trainWith(1, wasm, batches);
    for (const [workers, microBatch] of [[1, 2], [2, 1], [2, 3]]) {
      const parts = await trainWith(workers, wasm, batches, false, microBatch);
      for (const [s, metrics] of whole.metrics.entries()) {
        expect(parts.metrics[s].loss, `${workers} thread(s), micro ${microBatch}, step ${s} loss`).toBeCloseTo(metrics.loss, 5);
        expect(parts.metrics[s].acc, `${workers} thread(s), micro ${microBatch}, step ${s} acc`).toBeCloseTo(metrics.acc, 5);
      }
      for (const [w, { name, values }] of whole.weights.entries()) {
        expect(worstDifference(parts.weights[w].values, values), `${workers} thread(s), micro ${microBatch}, ${name}`).toBeLessThan(1e-5);
      }
    }
  });

  it("with BatchNorm, averages the threads' moving means into the whole batch's", async () => {
    // Each thread normalises by its share's statistics (like PyTorch's DataParallel without
    // SyncBatchNorm), so losses and gradients differ a little; the moving means do not.
    const one = await trainWith(1, wasm, [batch(6, 1)], true);
    const two = await trainWith(2, wasm, [batch(6, 1)], true);
    for (const [w, { name, values }] of one.weights.entries()) {
      const tolerance = name.includes("moving_mean") ? 1e-6 : 5e-2;
      expect(worstDifference(two.weights[w].values, values), name).toBeLessThan(tolerance);
    }
    expect(one.weights.some((w) => w.name.includes("moving_mean"))).toBe(true);
  });
});
