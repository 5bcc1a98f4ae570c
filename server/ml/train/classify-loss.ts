// Classification loss and training accuracy, in a module light enough for training worker threads
// to import (server/ml/backend/parallel-worker.ts builds its replica task from createReplicaTask).
import * as tf from "@tensorflow/tfjs";
import type { ReplicaTask, ReplicaTargets } from "../backend/parallel";
import type { Batch } from "../data/loader";

export interface ClassifyLossOptions {
  numClasses: number;
  labelSmoothing: number;
  /** The model ends with a softmax (probabilities) rather than producing logits. */
  probabilities: boolean;
}

/**
 * Mean softmax cross-entropy with label smoothing (targets (1-ε)·onehot + ε/nc, as in PyTorch);
 * on probabilities when the graph ends with a Softmax, else on logits (numerically safer).
 */
export function classificationLoss(outputs: tf.Tensor, labels: Int32Array, numClasses: number, labelSmoothing: number, probabilities: boolean): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(labels, "int32"), numClasses).toFloat();
    if (!probabilities) return tf.losses.softmaxCrossEntropy(onehot, outputs, undefined, labelSmoothing) as tf.Scalar;
    const targets = labelSmoothing > 0 ? onehot.mul(1 - labelSmoothing).add(labelSmoothing / numClasses) : onehot;
    return targets.mul(outputs.clipByValue(1e-7, 1).log()).sum(1).neg().mean() as tf.Scalar;
  });
}

/** Fraction of the batch whose highest score is the label. */
export function trainAccuracy(outputs: tf.Tensor, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => outputs.argMax(1).equal(tf.tensor1d(labels, "int32")).toFloat().mean() as tf.Scalar);
}

/** The same loss and metrics in a training worker thread. */
export function createReplicaTask(options: unknown): ReplicaTask {
  const { numClasses, labelSmoothing, probabilities } = options as ClassifyLossOptions;
  const labelsOf = (targets: ReplicaTargets) => {
    if (!(targets instanceof Int32Array)) throw new Error("classification replica: targets must be Int32Array class ids");
    return targets;
  };
  return {
    loss: (outputs, targets) => classificationLoss(outputs as tf.Tensor, labelsOf(targets), numClasses, labelSmoothing, probabilities),
    metrics: (outputs, targets) => ({ acc: trainAccuracy(outputs as tf.Tensor, labelsOf(targets)) }),
  };
}

export const CLASSIFY_REPLICA_MODULE = new URL("./classify-loss.ts", import.meta.url).href;

/** Images [start, end) of a batch, sharing its memory. */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  const perImage = batch.imgsz * batch.imgsz * 3;
  return { x: batch.x.subarray(start * perImage, end * perImage), y: batch.y.subarray(start, end), size: end - start, imgsz: batch.imgsz };
}

export function replicaInput(batch: Batch): { x: Float32Array; shape: number[]; targets: Int32Array } {
  return { x: batch.x, shape: [batch.size, batch.imgsz, batch.imgsz, 3], targets: batch.y };
}
