// Test helpers for detection: one batch through the TF.js engine's YOLOv8 loss and its gradients,
// and through the ONNX training graph, which assigns the same ground truth itself.
import * as tf from "@tensorflow/tfjs";
import type { Box } from "../../augment/geometry";
import { makeAnchors } from "../../detect/dfl";
import { detectionLoss } from "../../detect/loss";
import { assignerInputs, detectionTargets, type DetectionTargets } from "../../detect/targets";
import type { ModelGraph } from "../../graph/index";
import { createOrtSession, ort } from "../session";
import { groundTruthFeeds } from "../tasks";
import { buildTrainingGraph, type WeightInfo } from "../train-graph";

export interface DetectCase {
  graph: ModelGraph;
  imgsz: number;
  numClasses: number;
  boxes: Box[][];
}

export interface DetectRun {
  parts: Record<string, number>;
  grads: Map<string, Float32Array>;
  moving: Map<string, Float32Array>;
  raw: Float32Array;
}

/** The TF.js engine's loss parts and gradients (train/stepper.ts's tape), and the raw head output it saw. */
export function tfDetectGradients(model: tf.LayersModel, c: DetectCase, x: Float32Array): DetectRun {
  const batch = c.boxes.length;
  const grid = makeAnchors(c.imgsz, c.imgsz);
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const names = new Map(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.originalName]));
  const parts: Record<string, number> = {};
  let raw = new Float32Array(0);
  const { grads } = tf.tidy(() =>
    tf.variableGrads(() => {
      const out = model.apply(tf.tensor4d(x, [batch, c.imgsz, c.imgsz, 3]), { training: true }) as tf.Tensor;
      raw = Float32Array.from(out.dataSync() as Float32Array);
      const loss = detectionLoss(out, c.boxes, { numClasses: c.numClasses, imgsz: c.imgsz, grid });
      for (const [name, value] of Object.entries(loss)) parts[name === "total" ? "loss" : name] = value.dataSync()[0];
      return loss.total;
    }, trainable),
  );
  const result: DetectRun = { parts, grads: new Map(), moving: new Map(), raw };
  for (const [variable, tensor] of Object.entries(grads)) result.grads.set(names.get(variable)!, Float32Array.from(tensor.dataSync() as Float32Array));
  for (const w of model.weights) if (!w.trainable) result.moving.set(w.originalName, Float32Array.from(w.read().dataSync() as Float32Array));
  tf.dispose(Object.values(grads));
  return result;
}

/** The assigner's targets from a raw head output, as the ort trainer makes them. */
export function targetsFromRaw(raw: Float32Array, c: DetectCase): DetectionTargets {
  const grid = makeAnchors(c.imgsz, c.imgsz);
  const { scores, boxesPx } = assignerInputs(raw, { batch: c.boxes.length, numClasses: c.numClasses, grid });
  return detectionTargets(scores, boxesPx, c.boxes, { numClasses: c.numClasses, imgsz: c.imgsz, grid });
}

/** The ONNX training graph, with its assigner, on the given weights, batch and ground truth. */
export async function ortDetectGradients(
  c: DetectCase,
  weights: WeightInfo[],
  values: Map<string, Float32Array>,
  x: Float32Array,
  opts: { choices?: Map<string, string> } = {},
): Promise<DetectRun & { io: ReturnType<typeof buildTrainingGraph>; out: Record<string, ort.Tensor> }> {
  const batch = c.boxes.length;
  const io = buildTrainingGraph({
    graph: c.graph,
    inputShape: [c.imgsz, c.imgsz, 3],
    batch,
    weights,
    loss: { kind: "detect", numClasses: c.numClasses, imgsz: c.imgsz },
    choices: opts.choices,
  });
  const shapes = new Map(weights.map((w) => [w.name, w.shape]));
  const feeds: Record<string, ort.Tensor> = {
    [io.imageInput]: new ort.Tensor("float32", x, [batch, c.imgsz, c.imgsz, 3]),
    ...groundTruthFeeds(io.detectInputs!, c.boxes, c),
  };
  for (const name of io.weightInputs) feeds[name] = new ort.Tensor("float32", values.get(name)!, shapes.get(name)!);
  const session = await createOrtSession(io.bytes, { provider: "cpu", deviceId: 0 });
  let out: Record<string, ort.Tensor>;
  try {
    out = await session.run(feeds);
  } finally {
    await session.release();
  }
  const parts = Object.fromEntries(Object.entries(io.lossOutputs).map(([name, output]) => [name, (out[output].data as Float32Array)[0]]));
  const grads = new Map(io.grads.map((g) => [g.weight, out[g.output].data as Float32Array]));
  const moving = new Map<string, Float32Array>();
  for (const m of io.movingAverages) {
    const batchValue = out[m.output].data as Float32Array;
    const current = Float32Array.from(values.get(m.weight)!);
    for (let i = 0; i < current.length; i++) current[i] = current[i] - (current[i] - batchValue[i]) * (1 - m.momentum);
    moving.set(m.weight, current);
  }
  return { parts, grads, moving, raw: out[io.logitsOutput].data as Float32Array, io, out };
}
