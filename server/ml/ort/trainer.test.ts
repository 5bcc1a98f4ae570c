// Training steps on ONNX Runtime follow the TF.js engine's: same losses, weights, moving statistics
// and optimizer state after 20 Adam steps; micro-batches accumulate to the whole batch's update.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendInfo } from "../backend/index";
import type { Batch } from "../data/loader";
import { compileGraph, type ModelGraph } from "../graph/index";
import { CLASSIFY_REPLICA_MODULE, classificationLoss, replicaInput, sliceBatch, trainAccuracy } from "../train/classify-loss";
import { TrainOptimizer, type TrainableVariable } from "../train/optimizers";
import { createTrainStepper, resolveTrainingBackend, type StepAdapter } from "../train/stepper";
import { zooGraph } from "../zoo/index";
import { microBatchSizes } from "./trainer";
import { maxRelativeError } from "./testing/parity";

const CLASSES = 4;

function adapterFor(labelSmoothing: number): StepAdapter<Batch> & { task: "classify" } {
  return {
    task: "classify",
    inputs: (batch) => tf.tensor4d(batch.x, [batch.size, batch.imgsz, batch.imgsz, 3]),
    loss: (outputs, batch) => classificationLoss(outputs as tf.Tensor, batch.y, CLASSES, labelSmoothing, false),
    trainMetrics: (outputs, batch) => ({ acc: trainAccuracy(outputs as tf.Tensor, batch.y) }),
    dataParallel: {
      replicaTask: () => ({ module: CLASSIFY_REPLICA_MODULE, options: { numClasses: CLASSES, labelSmoothing, probabilities: false } }),
      slice: sliceBatch,
      replicaInput,
    },
  };
}

function batches(count: number, size: number, imgsz: number): Batch[] {
  return Array.from({ length: count }, (_, i) =>
    tf.tidy(() => ({
      x: Float32Array.from(tf.randomUniform([size, imgsz, imgsz, 3], 0, 1, "float32", 100 + i).dataSync() as Float32Array),
      y: Int32Array.from({ length: size }, (_, j) => (i * 3 + j * 5) % CLASSES),
      size,
      imgsz,
    })),
  );
}

interface Run {
  losses: number[];
  accs: number[];
  weights: Map<string, Float32Array>;
  slots: Map<string, Float32Array>;
  step: number;
}

async function trainOn(
  backend: BackendInfo,
  graph: ModelGraph,
  imgsz: number,
  data: Batch[],
  opts: { microBatch?: number; optimizer?: "Adam" | "SGD"; labelSmoothing?: number; perturb?: number } = {},
): Promise<Run> {
  const model = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 3 });
  if (opts.perturb) {
    for (const w of model.weights) {
      const values = Float32Array.from(w.read().dataSync() as Float32Array, (v, i) => v * (1 + opts.perturb! * Math.sin(i * 12.9898)));
      w.write(tf.tensor(values, w.shape as number[]));
    }
  }
  const trainable: TrainableVariable[] = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  const optimizer = new TrainOptimizer({ name: opts.optimizer ?? "Adam", momentum: 0.9, nesterov: false, weightDecay: 5e-4 });
  const adapter = adapterFor(opts.labelSmoothing ?? 0);
  const inputShape: [number, number, number] = [imgsz, imgsz, 3];
  const trainingBackend = resolveTrainingBackend(backend, { model, graph, inputShape, adapter });
  expect(trainingBackend.backend).toBe(backend.backend);
  const stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: 1, workers: 1, microBatch: opts.microBatch, backend, graph, inputShape });
  const losses: number[] = [];
  const accs: number[] = [];
  try {
    for (const [i, batch] of data.entries()) {
      const { loss, acc } = await stepper.step(batch, 2e-3 * (1 - i / 40));
      losses.push(loss);
      accs.push(acc);
    }
    stepper.sync();
    const state = optimizer.getState();
    return {
      losses,
      accs,
      weights: new Map(model.weights.map((w) => [w.originalName, Float32Array.from(w.read().dataSync() as Float32Array)])),
      slots: new Map(state.slots.map((s) => [s.name, Float32Array.from(s.tensor.dataSync() as Float32Array)])),
      step: state.step,
    };
  } finally {
    await stepper.close();
    optimizer.dispose();
    model.dispose();
  }
}

/** Relative L2 distance ‖a − b‖ / ‖b‖. */
function relativeL2(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

/**
 * Losses and accuracies per step; weights and optimizer slots at the end, each tensor's largest
 * difference relative to its largest value (`by: "max"`), or in relative L2 norm.
 */
function expectSameRun(got: Run, want: Run, tolerance: { loss: number; weights: number; by: "max" | "l2" }): void {
  got.losses.forEach((loss, i) => expect(Math.abs(loss - want.losses[i]) / want.losses[i], `loss of step ${i + 1}`).toBeLessThan(tolerance.loss));
  got.accs.forEach((acc, i) => expect(acc, `accuracy of step ${i + 1}`).toBeCloseTo(want.accs[i], 6));
  const distance = tolerance.by === "max" ? maxRelativeError : relativeL2;
  expect([...got.weights.keys()]).toEqual([...want.weights.keys()]);
  for (const [name, value] of want.weights) expect(distance(got.weights.get(name)!, value), name).toBeLessThan(tolerance.weights);
  expect(got.step).toBe(want.step);
  expect([...got.slots.keys()].sort()).toEqual([...want.slots.keys()].sort());
  for (const [name, value] of want.slots) expect(distance(got.slots.get(name)!, value), name).toBeLessThan(tolerance.weights);
}

/** Weights and slots no farther from TF.js's than TF.js's own run from perturbed initial weights (×3, at least 1e-4). */
async function expectWithinOwnSensitivity(got: Run, want: Run, perturbed: Run): Promise<void> {
  for (const [kind, ours, theirs, own] of [["weights", got.weights, want.weights, perturbed.weights], ["slots", got.slots, want.slots, perturbed.slots]] as const) {
    for (const [name, value] of theirs) {
      const sensitivity = relativeL2(own.get(name)!, value);
      expect(relativeL2(ours.get(name)!, value), `${kind} ${name} (TF.js perturbed: ${sensitivity.toExponential(1)})`).toBeLessThan(Math.max(3 * sensitivity, 1e-4));
    }
  }
}

let wasm: BackendInfo;
let ort: BackendInfo;

beforeAll(async () => {
  wasm = await initBackend("wasm");
  ort = await initBackend("ort");
});

describe("training on ONNX Runtime", () => {
  it("follows the TF.js engine's 20-step Adam trajectory of reference-cnn: losses to 1e-3", async () => {
    const graph = zooGraph("reference-cnn", { imgsz: 32, numClasses: CLASSES });
    const data = batches(20, 8, 32);
    const want = await trainOn(wasm, graph, 32, data);
    const got = await trainOn(ort, graph, 32, data);
    expectSameRun(got, want, { loss: 1e-3, weights: Infinity, by: "l2" });
    expect(got.losses.at(-1)!).toBeLessThan(got.losses[0]);
    // Adam normalises every element by its own √v, so float-level differences (kernels summing in other
    // orders) grow into visible weight differences over steps: this trajectory is as sensitive in TF.js
    // itself. The ONNX engine stays as close to TF.js as TF.js stays to itself when its initial weights are
    // perturbed by 1e-6.
    await expectWithinOwnSensitivity(got, want, await trainOn(wasm, graph, 32, data, { perturb: 1e-6 }));
  });

  it("follows the TF.js engine's 20-step SGD trajectory of reference-cnn: losses to 1e-4, weights and momentum as close as TF.js to itself", async () => {
    // Even SGD's weights move by ~1e-4 of their largest value over 20 steps when a ReLU or a pooling
    // window flips on float-level differences, which every formulation's summation order makes; so the
    // weights are held to TF.js's own sensitivity too, and the losses to 1e-4.
    const graph = zooGraph("reference-cnn", { imgsz: 32, numClasses: CLASSES });
    const data = batches(20, 8, 32);
    const want = await trainOn(wasm, graph, 32, data, { optimizer: "SGD" });
    const got = await trainOn(ort, graph, 32, data, { optimizer: "SGD" });
    expectSameRun(got, want, { loss: 1e-4, weights: Infinity, by: "l2" });
    await expectWithinOwnSensitivity(got, want, await trainOn(wasm, graph, 32, data, { optimizer: "SGD", perturb: 1e-6 }));
  });

  it("BatchNorm moving statistics, SGD with momentum, label smoothing and micro-batches follow the TF.js engine's", async () => {
    const graph: ModelGraph = {
      nodes: [
        { id: "input", type: "Input" },
        { id: "conv", type: "Conv2d", data: { filters: 8, kernel_size: 3, stride: 2, bias: false } },
        { id: "bn", type: "BatchNorm" },
        { id: "act", type: "SiLU" },
        { id: "conv2", type: "Conv2d", data: { filters: 8, kernel_size: 3, activation: "relu" } },
        { id: "gap", type: "GlobalAvgPool" },
        { id: "fc", type: "Dense", data: { units: CLASSES } },
      ],
      edges: ["input", "conv", "bn", "act", "conv2", "gap", "fc"].slice(1).map((target, i, all) => ({ source: i === 0 ? "input" : all[i - 1], target })),
    };
    const data = batches(6, 10, 16);
    const opts = { microBatch: 4, optimizer: "SGD" as const, labelSmoothing: 0.1 };
    const want = await trainOn(wasm, graph, 16, data, opts);
    const got = await trainOn(ort, graph, 16, data, opts);
    expectSameRun(got, want, { loss: 1e-4, weights: 1e-4, by: "max" });
    expect([...got.weights.keys()]).toContain("bn/moving_mean");
  });

  it("splits a batch into micro-batches as planRounds does with one thread", () => {
    expect(microBatchSizes(10, 4)).toEqual([4, 3, 3]);
    expect(microBatchSizes(8, 8)).toEqual([8]);
    expect(microBatchSizes(8, Number.POSITIVE_INFINITY)).toEqual([8]);
  });
});
