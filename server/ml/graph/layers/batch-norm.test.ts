import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend/index";
import { batchNormCases, relativeDifference } from "../../io/testing/batch-norm-fixture";
import { batchNormalization } from "./batch-norm";

function seededValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const scale = Math.max(1e-6, ...Array.from(expected, Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst / scale, `${label}: max abs diff ${worst} (scale ${scale})`).toBeLessThan(1e-4);
}

interface StepResult {
  y: Float32Array;
  dx: Float32Array;
  dGamma: Float32Array;
  dBeta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

/** One training-mode forward and backward of `layer` on fixed data, with γ and β set away from 1 and 0. */
function trainingStep(layer: tf.layers.Layer, shape: number[]): StepResult {
  const channels = shape[shape.length - 1];
  const x = tf.tensor(seededValues(shape.reduce((a, b) => a * b, 1), 1).map((v, i) => 3 * v + (i % channels)), shape);
  const weightsOfLoss = tf.tensor(seededValues(x.size, 2), shape);
  layer.build(shape);
  layer.setWeights([tf.tensor1d(seededValues(channels, 3).map((v) => 1 + v)), tf.tensor1d(seededValues(channels, 4)), tf.zeros([channels]), tf.ones([channels])]);
  const [gammaName, betaName] = layer.trainableWeights.map((w) => w.name);
  const y = tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, weightsOfLoss)) as tf.Scalar);
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, weightsOfLoss)))(x);
  const [movingMean, movingVariance] = layer.getWeights().slice(2);
  const result = {
    y: y.dataSync() as Float32Array,
    dx: dx.dataSync() as Float32Array,
    dGamma: grads[gammaName].dataSync() as Float32Array,
    dBeta: grads[betaName].dataSync() as Float32Array,
    movingMean: movingMean.dataSync() as Float32Array,
    movingVariance: movingVariance.dataSync() as Float32Array,
  };
  tf.dispose([x, weightsOfLoss, y, dx, ...Object.values(grads)]);
  return result;
}

beforeAll(async () => {
  await initBackend("wasm");
});

describe.each(["wasm", "cpu"] as const)("BatchNorm's training step on %s", (backendName) => {
  it.each([
    { shape: [3, 5, 4, 6], epsilon: 1e-3, momentum: 0.97 },
    { shape: [2, 7, 3], epsilon: 1e-5, momentum: 0.9 },
    { shape: [9, 4], epsilon: 1e-3, momentum: 0.5 },
  ])("matches TF.js's batchNormalization in output, gradients and moving mean, PyTorch's unbiased moving variance, for $shape", async ({ shape, epsilon, momentum }) => {
    await tf.setBackend(backendName);
    const ours = trainingStep(batchNormalization({ axis: -1, epsilon, momentum }), shape);
    const reference = trainingStep(tf.layers.batchNormalization({ axis: -1, epsilon, momentum }), shape);
    for (const key of ["y", "dx", "dGamma", "dBeta", "movingMean"] as const) expectClose(ours[key], reference[key], key);
    // Three updates from 1 on one batch: TF.js's m³ + (1 − m³)·v with the biased v, ours with n/(n − 1)·v.
    const count = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const kept = momentum ** 3;
    expectClose(ours.movingVariance, reference.movingVariance.map((v) => kept + ((v - kept) * count) / (count - 1)), "movingVariance");
  });
});

describe.each(["wasm", "cpu"] as const)("BatchNorm's training steps on %s against PyTorch's", (backendName) => {
  it.each(batchNormCases())("$name: outputs and running statistics after each step to 1e-5", async (c) => {
    await tf.setBackend(backendName);
    const layer = batchNormalization({ axis: -1, epsilon: c.eps, momentum: 1 - c.momentum });
    const shape = c.module === "BatchNorm2d" ? [...c.shape] : [c.shape[0], c.features];
    layer.build(shape);
    const [movingMean, movingVariance] = layer.nonTrainableWeights;
    for (const [i, step] of c.steps.entries()) {
      const y = tf.tidy(() => Array.from((layer.apply(tf.tensor(step.x, shape), { training: true }) as tf.Tensor).dataSync()));
      expect(relativeDifference(y, step.y), `y of step ${i + 1}`).toBeLessThan(1e-5);
      expect(relativeDifference(movingMean.read().dataSync(), step.running_mean), `running_mean after step ${i + 1}`).toBeLessThan(1e-5);
      expect(relativeDifference(movingVariance.read().dataSync(), step.running_var), `running_var after step ${i + 1}`).toBeLessThan(1e-5);
    }
  });
});

describe("BatchNorm layer compatibility", () => {
  it("keeps TF.js's weights, inference output and serialised class", async () => {
    await tf.setBackend("cpu");
    const ours = batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.97, name: "bn" });
    const reference = tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.97, name: "bn" });
    const input = tf.input({ shape: [4, 4, 3] });
    const models = [ours, reference].map((layer) => tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor, name: "model" }));
    expect(ours.getClassName()).toBe("BatchNormalization");
    // TF.js makes variable names unique per process: the second "bn/gamma" is "bn/gamma_1".
    const describeWeights = (layer: tf.layers.Layer) => layer.weights.map((w) => [w.name.replace(/_\d+$/, ""), w.shape, w.trainable]);
    expect(describeWeights(ours)).toEqual(describeWeights(reference));
    const weights = [1, 2, 3, 4].map((seed) => tf.tensor1d(seededValues(3, seed).map((v) => (seed === 4 ? 1 + v : v))));
    ours.setWeights(weights);
    reference.setWeights(weights);
    const x = tf.tensor4d(seededValues(2 * 4 * 4 * 3, 5), [2, 4, 4, 3]);
    const [a, b] = models.map((model) => model.predict(x) as tf.Tensor);
    expectClose(a.dataSync(), b.dataSync(), "inference");
    expect(JSON.stringify(models[0].toJSON(null, false))).toBe(JSON.stringify(models[1].toJSON(null, false)));
  });

  it("is the class a model rebuilt from JSON gets, so worker replicas train like the original", async () => {
    await tf.setBackend("cpu");
    const ours = batchNormalization({ axis: -1, name: "bn_json" });
    const input = tf.input({ shape: [4, 4, 3] });
    const model = tf.model({ inputs: input, outputs: ours.apply(input) as tf.SymbolicTensor });
    const rebuilt = await tf.models.modelFromJSON(JSON.parse(model.toJSON() as string));
    expect(rebuilt.getLayer("bn_json").constructor).toBe(ours.constructor);
  });
});
