// Both engines' BatchNorm running statistics after real training steps equal PyTorch's (fixture:
// io/fixtures/make_batch_norm_fixture.py): mean and the unbiased variance, momentum per layer.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendInfo } from "../backend/index";
import type { Batch } from "../data/loader";
import { compileGraph, type ModelGraph } from "../graph/index";
import { batchNormCases, relativeDifference, type BatchNormCase } from "../io/testing/batch-norm-fixture";
import { CLASSIFY_REPLICA_MODULE, classificationLoss, replicaInput, sliceBatch, trainAccuracy } from "../train/classify-loss";
import { TrainOptimizer } from "../train/optimizers";
import { createTrainStepper, resolveTrainingBackend, type StepAdapter } from "../train/stepper";

const CLASSES = 2;

const adapter: StepAdapter<Batch> & { task: "classify" } = {
  task: "classify",
  inputs: (batch) => tf.tensor4d(batch.x, [batch.size, batch.imgsz, batch.imgsz, 3]),
  loss: (outputs, batch) => classificationLoss(outputs as tf.Tensor, batch.y, CLASSES, 0, false),
  trainMetrics: (outputs, batch) => ({ acc: trainAccuracy(outputs as tf.Tensor, batch.y) }),
  dataParallel: {
    replicaTask: () => ({ module: CLASSIFY_REPLICA_MODULE, options: { numClasses: CLASSES, labelSmoothing: 0, probabilities: false } }),
    slice: sliceBatch,
    replicaInput,
  },
};

/** Input → BatchNorm → a classifier head; BatchNorm1d cases see the image flattened first. */
function graphOf(c: BatchNormCase): ModelGraph {
  const bn = { id: "bn", type: "BatchNorm", data: { eps: c.eps, momentum: 1 - c.momentum } };
  const layers =
    c.module === "BatchNorm2d"
      ? [bn, { id: "gap", type: "GlobalAvgPool" }, { id: "fc", type: "Dense", data: { units: CLASSES } }]
      : [{ id: "flat", type: "Flatten" }, bn, { id: "fc", type: "Dense", data: { units: CLASSES } }];
  const nodes = [{ id: "input", type: "Input" }, ...layers];
  return { nodes, edges: nodes.slice(1).map((node, i) => ({ source: nodes[i].id, target: node.id })) };
}

const engines: Record<string, BackendInfo> = {};

beforeAll(async () => {
  engines.wasm = await initBackend("wasm");
  engines.ort = await initBackend("ort");
});

describe.each(["wasm", "ort"])("BatchNorm running statistics of the %s engine", (engine) => {
  it.each(batchNormCases())("equal PyTorch's after each of two steps to 1e-5: $name", async (c) => {
    const [size, imgsz] = c.shape;
    const graph = graphOf(c);
    const inputShape: [number, number, number] = [imgsz, imgsz, 3];
    const model = compileGraph(graph, { inputShape, seed: 1 });
    const trainable = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
    const optimizer = new TrainOptimizer({ name: "SGD", momentum: 0.9, nesterov: false, weightDecay: 0 });
    expect(resolveTrainingBackend(engines[engine], { model, graph, inputShape, adapter }).backend).toBe(engines[engine].backend);
    const stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: 0, workers: 1, backend: engines[engine], graph, inputShape });
    try {
      for (const [i, step] of c.steps.entries()) {
        await stepper.step({ x: Float32Array.from(step.x), y: Int32Array.from({ length: size }, (_, j) => j % CLASSES), size, imgsz }, 0.01);
        stepper.sync();
        const read = (name: string) => model.weights.find((w) => w.originalName === name)!.read().dataSync();
        expect(relativeDifference(read("bn/moving_mean"), step.running_mean), `running_mean after step ${i + 1}`).toBeLessThan(1e-5);
        expect(relativeDifference(read("bn/moving_variance"), step.running_var), `running_var after step ${i + 1}`).toBeLessThan(1e-5);
      }
    } finally {
      await stepper.close();
      optimizer.dispose();
      model.dispose();
    }
  });
});
