import { describe, it, expect, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./index";
import { createGradientReplicas, nonTrainableIndices, type GradientReplicas } from "./parallel";
import { CLASSIFY_REPLICA_MODULE, classificationLoss } from "../train/classify-loss";

const IMGSZ = 16;
const CLASSES = 3;

/** Conv → BatchNorm → GAP → dense: trainable weights and BatchNorm moving statistics. */
function buildModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [IMGSZ, IMGSZ, 3], filters: 4, kernelSize: 3, padding: "same", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.batchNormalization({}),
      tf.layers.reLU(),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

function share(size: number, seed: number): { x: Float32Array; shape: number[]; targets: Int32Array } {
  const x = tf.tidy(() => tf.randomUniform([size, IMGSZ, IMGSZ, 3], 0, 1, "float32", seed).dataSync() as Float32Array);
  return { x, shape: [size, IMGSZ, IMGSZ, 3], targets: Int32Array.from({ length: size }, (_, i) => (i + seed) % CLASSES) };
}

const worstDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);

describe("createGradientReplicas", () => {
  let replicas: GradientReplicas | null = null;
  afterAll(() => replicas?.close());

  it("computes each share's loss, gradients and BatchNorm statistics as this thread does, with the weights of the moment", async () => {
    await initBackend("wasm");
    const model = buildModel();
    const task = { module: CLASSIFY_REPLICA_MODULE, options: { numClasses: CLASSES, labelSmoothing: 0, probabilities: false } };
    replicas = await createGradientReplicas({ model, device: "wasm", task, count: 2 });
    expect(replicas.description).toMatch(/^wasm \(SIMD, 1 thread/);
    // Weights the replicas were not built with: compute() must send the current ones.
    tf.tidy(() => model.setWeights(model.getWeights().map((w, i) => w.add(tf.scalar(0.01 * (i + 1))))));
    const before = model.getWeights().map((w) => w.dataSync().slice());

    const shares = [share(3, 1), share(2, 2)];
    const results = await replicas.compute(model, shares);
    expect(results).toHaveLength(2);
    const frozen = nonTrainableIndices(model);
    expect(frozen).toHaveLength(2);

    for (const [s, { x, shape, targets }] of shares.entries()) {
      tf.tidy(() => model.setWeights(before.map((values, i) => tf.tensor(values, model.weights[i].shape as number[]))));
      const { value, grads } = tf.variableGrads(() =>
        classificationLoss(model.apply(tf.tensor(x, shape), { training: true }) as tf.Tensor, targets, CLASSES, 0, false),
      model.trainableWeights.map((w) => w.read() as tf.Variable));
      expect(results[s].loss).toBeCloseTo(value.dataSync()[0], 5);
      expect(results[s].metrics.acc).toBeGreaterThanOrEqual(0);
      model.trainableWeights.forEach((w, i) => {
        const expected = grads[(w.read() as tf.Variable).name].dataSync();
        expect(worstDifference(results[s].gradients[i], expected), `share ${s} gradient ${w.name}`).toBeLessThan(1e-5);
      });
      // Moving statistics after this share's forward pass; they moved away from the values sent.
      frozen.forEach((index, j) => {
        const expected = model.weights[index].read().dataSync();
        expect(worstDifference(results[s].nonTrainable[j], expected)).toBeLessThan(1e-6);
        expect(worstDifference(results[s].nonTrainable[j], before[index])).toBeGreaterThan(1e-4);
      });
      tf.dispose([value, ...Object.values(grads)]);
    }
    model.dispose();
  });

  it("names the worker and the cause when a replica fails", async () => {
    const model = buildModel();
    await expect(replicas!.compute(model, [{ x: new Float32Array(5), shape: [1, 5], targets: new Int32Array(1) }])).rejects.toThrow(/training worker 0: .*/);
    model.dispose();
  });
});
