// Messages between createGradientReplicas (main thread) and its worker threads.
import type * as tf from "@tensorflow/tfjs";
import type { Device } from "./index";

/**
 * What a replica minimises, built inside the worker: `module` (a file URL) exports
 * `createReplicaTask(options)`. The task must compute exactly what the main thread computes.
 */
export interface ReplicaTaskSpec {
  module: string;
  options: unknown;
}

export type ReplicaTargets = Int32Array | Float32Array;

export interface ReplicaTask {
  /** Mean loss of the share (inside tf.tidy, under the gradient tape). */
  loss(outputs: tf.Tensor | tf.Tensor[], targets: ReplicaTargets): tf.Scalar;
  /** Per-share means, averaged by the caller like the loss (inside tf.tidy). */
  metrics?(outputs: tf.Tensor | tf.Tensor[], targets: ReplicaTargets): Record<string, tf.Scalar>;
}

export interface WorkerSetup {
  /** The main thread's device: it resolves to the same backend in the worker. */
  device: Device;
  /** model.toJSON(): topology only; weights arrive through `weights` before every step. */
  modelJson: string;
  /** Modules to import before the model is rebuilt (they register custom layer classes). */
  setupModules: string[];
  task: ReplicaTaskSpec;
  /** Every weight (model.weights order) flat; the worker writes its updated non-trainable weights back. */
  weights: SharedArrayBuffer;
  /** Gradients of the trainable weights (model.trainableWeights order) flat, written by the worker. */
  gradients: SharedArrayBuffer;
}

export type WorkerRequest =
  | { type: "setup"; setup: WorkerSetup }
  | { type: "gradients"; x: Float32Array; shape: number[]; targets: ReplicaTargets }
  /** Drops the model: the thread waits in a pool for the next setup. */
  | { type: "reset" };

export type WorkerReply =
  | { type: "ready"; description: string }
  | { type: "gradients"; loss: number; metrics: Record<string, number> }
  | { type: "reset" }
  | { type: "error"; message: string };
