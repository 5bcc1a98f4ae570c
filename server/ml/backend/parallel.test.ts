import { describe, it, expect, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./index";
import { createParallelStepper, type ParallelStepper } from "./parallel";
import { buildReferenceCnn } from "./reference-cnn";

const IMGSZ = 16;
const CLASSES = 3;

function batch(size: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const x = tf.tidy(() => tf.randomUniform([size, IMGSZ, IMGSZ, 3], 0, 1, "float32", seed).dataSync() as Float32Array);
  return { x, labels: Int32Array.from({ length: size }, (_, i) => (i + seed) % CLASSES) };
}

/** The same SGD steps on the whole batch in this thread: what data-parallel training must reproduce. */
function trainInProcess(model: tf.LayersModel, batches: { x: Float32Array; labels: Int32Array }[], learningRate: number): Float32Array[] {
  const optimizer = tf.train.sgd(learningRate);
  for (const { x, labels } of batches) {
    tf.tidy(() => {
      const xs = tf.tensor4d(x, [labels.length, IMGSZ, IMGSZ, 3]);
      const ys = tf.oneHot(tf.tensor1d(labels, "int32"), CLASSES).toFloat();
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
    });
  }
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

describe("createParallelStepper", () => {
  let stepper: ParallelStepper | null = null;
  afterAll(() => stepper?.close());

  it("two workers reproduce whole-batch SGD steps, including uneven splits", async () => {
    await initBackend("wasm");
    const model = buildReferenceCnn({ imgsz: IMGSZ, numClasses: CLASSES, seed: 5 });
    stepper = await createParallelStepper({ model, numClasses: CLASSES, optimizer: { name: "sgd", learningRate: 0.5 }, workers: 2 });
    expect(stepper.description).toMatch(/^wasm .* × 2 workers$/);
    const batches = [batch(6, 1), batch(5, 2), batch(1, 3)];
    const losses: number[] = [];
    for (const { x, labels } of batches) losses.push((await stepper.step(x.slice(), labels.slice())).loss);
    expect(losses.every(Number.isFinite)).toBe(true);

    const parallelWeights = await stepper.getWeights();
    const expected = trainInProcess(model, batches, 0.5);
    expect(parallelWeights.length).toBe(expected.length);
    parallelWeights.forEach((weights, w) => {
      const worst = weights.reduce((max, v, i) => Math.max(max, Math.abs(v - expected[w][i])), 0);
      expect(worst, `weight ${w}`).toBeLessThan(1e-4);
    });
    // The update actually moved the weights.
    const initial = buildReferenceCnn({ imgsz: IMGSZ, numClasses: CLASSES, seed: 5 }).getWeights()[0].dataSync();
    expect(parallelWeights[0].some((v, i) => Math.abs(v - initial[i]) > 1e-4)).toBe(true);
    model.dispose();
  });

  it("setWeights replaces the weights of every replica", async () => {
    const weights = await stepper!.getWeights();
    const zeroed = weights.map((w) => new Float32Array(w.length));
    await stepper!.setWeights(zeroed);
    expect((await stepper!.getWeights()).every((w) => w.every((v) => v === 0))).toBe(true);
  });
});
