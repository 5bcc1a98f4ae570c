// Validation on ONNX Runtime: the inference-mode graphs (BatchNorm on the moving statistics the
// training steps updated, no dropout) give the outputs and validation metrics the TF.js model gives
// once the trained weights are written back into it.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendInfo } from "../backend/index";
import type { DetectBatch } from "../data/detect-loader";
import { buildDetectModel, evaluateDetector } from "../detect/adapter";
import { detectStepAdapter } from "../detect/replica";
import type { TaskLoader } from "../train/adapter";
import { compileGraph, type ModelGraph } from "../graph/index";
import { TrainOptimizer, type TrainableVariable } from "../train/optimizers";
import { createTrainStepper, type StepAdapter } from "../train/stepper";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { chain } from "./testing/expect-parity";
import { maxRelativeError } from "./testing/parity";
import type { Batch } from "../data/loader";
import { CLASSIFY_REPLICA_MODULE, classificationLoss, replicaInput, sliceBatch, trainAccuracy } from "../train/classify-loss";

let ortInfo: BackendInfo;

beforeAll(async () => {
  await initBackend("wasm");
  ortInfo = await initBackend("ort");
});

const classifyAdapter: StepAdapter<Batch> & { task: "classify" } = {
  task: "classify",
  inputs: (batch) => tf.tensor4d(batch.x, [batch.size, batch.imgsz, batch.imgsz, 3]),
  loss: (outputs, batch) => classificationLoss(outputs as tf.Tensor, batch.y, 3, 0, false),
  trainMetrics: (outputs, batch) => ({ acc: trainAccuracy(outputs as tf.Tensor, batch.y) }),
  dataParallel: { replicaTask: () => ({ module: CLASSIFY_REPLICA_MODULE, options: { numClasses: 3, labelSmoothing: 0, probabilities: false } }), slice: sliceBatch, replicaInput },
};

const images = (size: number, imgsz: number, seed: number) => Float32Array.from(tf.tidy(() => tf.randomUniform([size, imgsz, imgsz, 3], 0, 1, "float32", seed).dataSync() as Float32Array));

/** A few ort steps, then the ort forward and the synced TF.js model's inference output on a new batch. */
async function afterSteps<B extends { size: number }>(model: tf.LayersModel, graph: ModelGraph, imgsz: number, adapter: StepAdapter<B>, batches: B[], x: Float32Array, count: number) {
  const trainable: TrainableVariable[] = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  const optimizer = new TrainOptimizer({ name: "SGD", momentum: 0.9, nesterov: false, weightDecay: 0 });
  const stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: 0, workers: 1, backend: ortInfo, graph, inputShape: [imgsz, imgsz, 3] });
  try {
    for (const batch of batches) await stepper.step(batch, 0.05);
    const before = model.weights.map((w) => Float32Array.from(w.read().dataSync() as Float32Array));
    const ours = await stepper.forward!(x, count);
    stepper.sync();
    const moved = model.weights.some((w, i) => maxRelativeError(w.read().dataSync() as Float32Array, before[i]) > 1e-3);
    const theirs = tf.tidy(() => (model.apply(tf.tensor4d(x, [count, imgsz, imgsz, 3]), { training: false }) as tf.Tensor).dataSync() as Float32Array);
    return { ours, theirs: Float32Array.from(theirs), moved };
  } finally {
    await stepper.close();
    optimizer.dispose();
  }
}

describe("validation on ONNX Runtime", () => {
  it("a classifier's inference graph uses the moving statistics the steps updated, as the synced TF.js model does", async () => {
    const graph = chain([["Conv2d", { filters: 6, kernel_size: 3, bias: false }], ["BatchNorm", { momentum: 0.5 }], ["ReLU"], ["MaxPool", { kernel_size: 2 }], ["GlobalAvgPool"], ["Dropout", { rate: 0.3 }], ["Dense", { units: 3 }]]);
    const model = compileGraph(graph, { inputShape: [16, 16, 3], seed: 1 });
    const batches: Batch[] = [0, 1, 2].map((i) => ({ x: images(4, 16, i), y: Int32Array.of(0, 1, 2, i % 3), size: 4, imgsz: 16 }));
    const { ours, theirs, moved } = await afterSteps(model, graph, 16, classifyAdapter, batches, images(3, 16, 99), 3);
    expect(moved).toBe(true);
    expect(maxRelativeError(ours, theirs)).toBeLessThan(1e-5);
    model.dispose();
  });

  it("a detector's validation metrics from the ort forward equal those of the synced TF.js model", async () => {
    const imgsz = 64;
    const { model, graph } = buildDetectModel(yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.25 }), imgsz, ["a", "b"], 0);
    const boxes = [[{ cls: 0, x: 0.4, y: 0.4, w: 0.3, h: 0.3 }], [{ cls: 1, x: 0.6, y: 0.5, w: 0.4, h: 0.2 }]];
    const batch: DetectBatch = { x: images(2, imgsz, 7), boxes, paths: ["a.png", "b.png"], size: 2, imgsz };
    const { ours, theirs } = await afterSteps(model, graph, imgsz, detectStepAdapter({ numClasses: 2, imgsz }), [batch, batch], batch.x, 2);
    expect(maxRelativeError(ours, theirs)).toBeLessThan(1e-4);
    const loader: TaskLoader<DetectBatch> = { length: 1, count: 2, epoch: async function* () { yield batch; }, close: async () => {} };
    const forwardOf = (raw: Float32Array) => async () => raw;
    const viaOrt = await evaluateDetector(model, loader, ["a", "b"], {}, forwardOf(ours));
    const viaTf = await evaluateDetector(model, loader, ["a", "b"]);
    for (const key of ["val_box_loss", "val_cls_loss", "val_dfl_loss", "mAP50"]) expect(viaOrt.metrics[key], key).toBeCloseTo(viaTf.metrics[key], 3);
    model.dispose();
  });
});
