// Detection loss as the training loop and the data-parallel worker threads both use it, in a module
// light enough for worker threads to import (server/ml/backend/parallel-worker.ts builds its replica
// task from createReplicaTask).
import * as tf from "@tensorflow/tfjs";
import type { ReplicaTask, ReplicaTargets, ShareInput } from "../backend/parallel";
import type { DataParallelSupport } from "../train/adapter";
import type { StepAdapter } from "../train/stepper";
import type { Box } from "../augment/geometry";
import type { DetectBatch } from "../data/detect-loader";
import { makeAnchors } from "./dfl";
import { detectionLoss } from "./loss";

export interface DetectLossOptions {
  numClasses: number;
  imgsz: number;
}

export interface DetectLossTracker {
  /** Total loss of a batch (inside the gradient tape); keeps its parts for `parts()`. */
  loss(outputs: tf.Tensor | tf.Tensor[], boxes: Box[][]): tf.Scalar;
  /** box_loss, cls_loss and dfl_loss of the last `loss` call, handed over once. */
  parts(): Record<string, tf.Scalar>;
}

/** Keeps the loss parts of the last call: computing the assignment again for the metrics would double its cost. */
export function createDetectLossTracker({ numClasses, imgsz }: DetectLossOptions): DetectLossTracker {
  const grid = makeAnchors(imgsz, imgsz);
  let last: Record<string, tf.Scalar> = {};
  return {
    loss(outputs, boxes) {
      const raw = Array.isArray(outputs) ? outputs[0] : outputs;
      const parts = detectionLoss(raw, boxes, { numClasses, imgsz, grid });
      tf.dispose(Object.values(last));
      last = { box_loss: tf.keep(parts.box_loss), cls_loss: tf.keep(parts.cls_loss), dfl_loss: tf.keep(parts.dfl_loss) };
      return parts.total;
    },
    parts() {
      const parts = last;
      last = {};
      return parts;
    },
  };
}

/** Boxes per image as flat rows [image, cls, x, y, w, h], the form worker threads receive. */
export function encodeBoxes(boxes: Box[][]): Float32Array {
  const rows = new Float32Array(boxes.reduce((n, image) => n + image.length, 0) * 6);
  let o = 0;
  boxes.forEach((image, i) => {
    for (const b of image) {
      rows.set([i, b.cls, b.x, b.y, b.w, b.h], o);
      o += 6;
    }
  });
  return rows;
}

export function decodeBoxes(rows: ReplicaTargets, images: number): Box[][] {
  if (!(rows instanceof Float32Array) || rows.length % 6 !== 0) throw new Error("detection replica: targets must be Float32Array rows of [image, cls, x, y, w, h]");
  const boxes: Box[][] = Array.from({ length: images }, () => []);
  for (let o = 0; o < rows.length; o += 6) boxes[rows[o]].push({ cls: rows[o + 1], x: rows[o + 2], y: rows[o + 3], w: rows[o + 4], h: rows[o + 5] });
  return boxes;
}

/** The same loss and loss parts in a training worker thread. */
export function createReplicaTask(options: unknown): ReplicaTask {
  const tracker = createDetectLossTracker(options as DetectLossOptions);
  return {
    loss: (outputs, targets) => {
      const images = (Array.isArray(outputs) ? outputs[0] : outputs).shape[0];
      return tracker.loss(outputs, decodeBoxes(targets, images));
    },
    metrics: () => tracker.parts(),
  };
}

export const DETECT_REPLICA_MODULE = new URL("./replica.ts", import.meta.url).href;

/** Images [start, end) of a batch, sharing its pixel memory. */
export function sliceDetectBatch(batch: DetectBatch, start: number, end: number): DetectBatch {
  const perImage = batch.imgsz * batch.imgsz * 3;
  return {
    x: batch.x.subarray(start * perImage, end * perImage),
    boxes: batch.boxes.slice(start, end),
    paths: batch.paths.slice(start, end),
    size: end - start,
    imgsz: batch.imgsz,
  };
}

export function detectReplicaInput(batch: DetectBatch): ShareInput {
  return { x: batch.x, shape: [batch.size, batch.imgsz, batch.imgsz, 3], targets: encodeBoxes(batch.boxes) };
}

/** What worker threads need to share detection batches; `options` is read when the threads start. */
export function detectDataParallel(options: () => DetectLossOptions): DataParallelSupport<DetectBatch> {
  return { replicaTask: () => ({ module: DETECT_REPLICA_MODULE, options: options() }), slice: sliceDetectBatch, replicaInput: detectReplicaInput };
}

/** Detection's training step without the rest of the adapter (benchmarks, tests). */
export function detectStepAdapter(options: DetectLossOptions): StepAdapter<DetectBatch> & { task: "detect" } {
  const tracker = createDetectLossTracker(options);
  return {
    task: "detect",
    inputs: (batch) => tf.tensor4d(batch.x, [batch.size, batch.imgsz, batch.imgsz, 3]),
    loss: (outputs, batch) => tracker.loss(outputs, batch.boxes),
    trainMetrics: () => tracker.parts(),
    dataParallel: detectDataParallel(() => options),
  };
}
