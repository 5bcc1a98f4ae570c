// Test helpers: the same weights and batch through the TF.js engine's training step and through the
// ONNX training graph, so gradients, losses and moving statistics can be compared.
import * as tf from "@tensorflow/tfjs";
import { compileGraph, type ModelGraph } from "../../graph/index";
import { classificationLoss } from "../../train/classify-loss";
import { outputsProbabilities } from "../../train/classify";
import { nchwcBlockSize } from "../nchwc";
import { createOrtSession, ort } from "../session";
import { buildTrainingGraph, type WeightInfo } from "../train-graph";
import { classifyTargets } from "../targets";

export interface GradientRun {
  loss: number;
  grads: Map<string, Float32Array>;
  /** Moving statistics after the step. */
  moving: Map<string, Float32Array>;
  logits: Float32Array;
}

export interface ParityCase {
  graph: ModelGraph;
  imgsz: number;
  batch: number;
  numClasses: number;
  seed?: number;
  labelSmoothing?: number;
}

export function makeBatch(c: ParityCase, seed = 11): { x: Float32Array; labels: Int32Array } {
  const x = tf.tidy(() => tf.randomUniform([c.batch, c.imgsz, c.imgsz, 3], 0, 1, "float32", seed).dataSync() as Float32Array);
  const labels = Int32Array.from({ length: c.batch }, (_, i) => (i * 7 + seed) % c.numClasses);
  return { x: Float32Array.from(x), labels };
}

export function buildModel(c: ParityCase): tf.LayersModel {
  return compileGraph(c.graph, { inputShape: [c.imgsz, c.imgsz, 3], seed: c.seed ?? 0 });
}

export function weightInfos(model: tf.LayersModel): WeightInfo[] {
  const trainable = new Set(model.trainableWeights.map((w) => w.originalName));
  return model.weights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[], trainable: trainable.has(w.originalName) }));
}

export function weightValues(model: tf.LayersModel): Map<string, Float32Array> {
  return new Map(model.weights.map((w) => [w.originalName, Float32Array.from(w.read().dataSync() as Float32Array)]));
}

/** The TF.js engine's loss and gradients (train/stepper.ts's batchGradients), without updating the weights. */
export function tfGradients(model: tf.LayersModel, c: ParityCase, x: Float32Array, labels: Int32Array): GradientRun {
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const names = new Map(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.originalName]));
  const probabilities = outputsProbabilities(model);
  let logits: Float32Array = new Float32Array(0);
  const { value, grads } = tf.tidy(() =>
    tf.variableGrads(() => {
      const out = model.apply(tf.tensor4d(x, [c.batch, c.imgsz, c.imgsz, 3]), { training: true }) as tf.Tensor;
      logits = out.dataSync() as Float32Array;
      return classificationLoss(out, labels, c.numClasses, c.labelSmoothing ?? 0, probabilities);
    }, trainable),
  );
  const result: GradientRun = { loss: value.dataSync()[0], grads: new Map(), moving: new Map(), logits: Float32Array.from(logits) };
  for (const [variable, tensor] of Object.entries(grads)) result.grads.set(names.get(variable)!, Float32Array.from(tensor.dataSync() as Float32Array));
  for (const w of model.weights) if (!w.trainable) result.moving.set(w.originalName, Float32Array.from(w.read().dataSync() as Float32Array));
  tf.dispose([value, ...Object.values(grads)]);
  return result;
}

/** The ONNX training graph's loss and gradients on the given weights; moving statistics updated as the stepper does. */
export async function ortGradients(
  c: ParityCase,
  weights: WeightInfo[],
  values: Map<string, Float32Array>,
  x: Float32Array,
  labels: Int32Array,
  opts: { choices?: Map<string, string>; probabilities?: boolean } = {},
): Promise<GradientRun & { io: ReturnType<typeof buildTrainingGraph> }> {
  const io = buildTrainingGraph({
    graph: c.graph,
    inputShape: [c.imgsz, c.imgsz, 3],
    batch: c.batch,
    weights,
    loss: { kind: "classify", numClasses: c.numClasses, probabilities: opts.probabilities ?? false },
    choices: opts.choices,
    nchwcBlock: await nchwcBlockSize(),
  });
  const session = await createOrtSession(io.bytes, { provider: "cpu", deviceId: 0 });
  try {
    const shapes = new Map(weights.map((w) => [w.name, w.shape]));
    const feeds: Record<string, ort.Tensor> = {
      [io.imageInput]: new ort.Tensor("float32", x, [c.batch, c.imgsz, c.imgsz, 3]),
      [io.targetInput]: new ort.Tensor("float32", classifyTargets(labels, c.numClasses, c.labelSmoothing ?? 0), [c.batch, c.numClasses]),
    };
    for (const name of io.weightInputs) feeds[name] = new ort.Tensor("float32", values.get(name)!, shapes.get(name)!);
    const out = await session.run(feeds);
    const grads = new Map(io.grads.map((g) => [g.weight, out[g.output].data as Float32Array]));
    const moving = new Map<string, Float32Array>();
    for (const m of io.movingAverages) {
      const batchValue = out[m.output].data as Float32Array;
      const current = Float32Array.from(values.get(m.weight)!);
      for (let i = 0; i < current.length; i++) current[i] = current[i] - (current[i] - batchValue[i]) * (1 - m.momentum);
      moving.set(m.weight, current);
    }
    return { loss: (out[io.lossOutput].data as Float32Array)[0], grads, moving, logits: out[io.logitsOutput].data as Float32Array, io };
  } finally {
    await session.release();
  }
}

/** Largest |a − b| relative to the largest |b| of the tensor. */
export function maxRelativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}
