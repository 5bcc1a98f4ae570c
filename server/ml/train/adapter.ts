import * as tf from "@tensorflow/tfjs";
import type { ReplicaTaskSpec, ShareInput } from "../backend/parallel";
import type { ModelGraph } from "../graph/index";
import type { TrainConfig } from "./config";
import type { ValidationPlotData } from "./plots";

/** What the loop needs from a data loader; DATA's ClassifyLoader fits, detection loaders too. */
export interface TaskLoader<B> {
  /** Batches per epoch. */
  readonly length: number;
  /** Items per epoch. */
  readonly count: number;
  /** Batches of an epoch; order and augmentation depend only on (seed, epoch), so resume can replay. */
  epoch(epoch: number): AsyncIterable<B>;
  close(): Promise<void>;
}

export interface PreparedTask<B> {
  model: tf.LayersModel;
  /** The graph the model was compiled from (stored in checkpoints, used by export). */
  graph?: ModelGraph;
  trainLoader: TaskLoader<B>;
  valLoader?: TaskLoader<B>;
  classNames: string[];
  /** [H, W, C] without batch. */
  inputShape: [number, number, number];
}

export interface ValidationResult {
  /** Scalars that go into epoch_end metrics and results.csv (fractions, not percent). */
  metrics: Record<string, number>;
  /** Anything richer: per-class precision/recall, confusion matrix … */
  details?: Record<string, unknown>;
  /** Data only the run's plots/ need (detection curves); kept out of events, unlike `details`. */
  plots?: ValidationPlotData;
  /** Lines logged when training ends, from the best epoch's validation (detection: Ultralytics' per-class table). */
  summary?: string[];
}

export type LogStage = "train" | "validation" | "best";

/**
 * A task plugs into the training loop through this interface; classification is
 * train/classify.ts, detection adds its own. One adapter object serves one run (prepare first).
 */
export interface TaskAdapter<B extends { size: number } = { size: number }> {
  readonly task: "classify" | "detect";
  /**
   * Reads the data, builds the model (weights from config.seed), checks that they fit together.
   * `expect.classNames` (when resuming) must equal the dataset's classes: check with assertSameClasses
   * before building the model, so the user hears about the classes, not about an output shape.
   */
  prepare(config: TrainConfig, log: (message: string, level?: "info" | "warn") => void, expect?: { classNames: string[]; source: string }): Promise<PreparedTask<B>>;
  /** The model input for a batch (called inside tf.tidy). */
  inputs(batch: B): tf.Tensor;
  /** Mean loss of a batch (called inside tf.tidy under the gradient tape). */
  loss(outputs: tf.Tensor | tf.Tensor[], batch: B): tf.Scalar;
  /** Per-batch means averaged over the epoch into train_<name> (e.g. train_acc); inside tf.tidy. */
  trainMetrics?(outputs: tf.Tensor | tf.Tensor[], batch: B): Record<string, tf.Scalar>;
  /** Lets the loop split batches over worker threads (train/parallel-step.ts); absent: one thread. */
  readonly dataParallel?: DataParallelSupport<B>;
  /** `forward`: the model's inference-mode output computed elsewhere (the ort backend's graphs), instead of model.apply. */
  validate(model: tf.LayersModel, loader: TaskLoader<B>, forward?: ModelForward): Promise<ValidationResult>;
  /** Higher is better; decides best.ckpt and early stopping. */
  fitness(metrics: Record<string, number>): number;
  /** Name under which the best fitness so far is reported in epoch metrics (classify: best_acc). */
  readonly bestMetricName: string;
  /** results.csv columns after `epoch`: [metric key, column name]. */
  readonly resultsColumns: [string, string][];
  /** Log lines for the old metrics API's parsers (classify: "Train Loss: 0.5234, Train Accuracy: 82.45%"). */
  logLines(stage: LogStage, metrics: Record<string, number>): string[];
}

/** A model's inference-mode output for a batch of NHWC images [images, H, W, C], flattened. */
export type ModelForward = (x: Float32Array, images: number) => Promise<Float32Array>;

/** The model's output for `x`: from `forward` when given, else from the TF.js model (call outside tf.tidy, dispose the result). */
export async function inferenceOutput(model: tf.LayersModel, x: Float32Array, shape: [number, number, number, number], forward?: ModelForward): Promise<tf.Tensor> {
  if (!forward) return tf.tidy(() => model.apply(tf.tensor4d(x, shape), { training: false }) as tf.Tensor);
  const outputShape = (model.outputs[0].shape as (number | null)[]).slice(1) as number[];
  return tf.tensor(await forward(x, shape[0]), [shape[0], ...outputShape]);
}

export interface DataParallelSupport<B> {
  /** The module and options a worker thread builds the same loss and trainMetrics from (after prepare). */
  replicaTask(): ReplicaTaskSpec;
  /** Items [start, end) of a batch, as a batch. */
  slice(batch: B, start: number, end: number): B;
  /** A batch as a worker thread receives it. */
  replicaInput(batch: B): ShareInput;
}

export class ClassMismatchError extends Error {
  constructor(datasetClasses: string[], expectedClasses: string[], source: string) {
    super(`dataset classes [${datasetClasses.join(", ")}] differ from the checkpoint's classes [${expectedClasses.join(", ")}] (${source})`);
    this.name = "ClassMismatchError";
  }
}

export function assertSameClasses(datasetClasses: string[], expect: { classNames: string[]; source: string } | undefined): void {
  if (!expect) return;
  const same = datasetClasses.length === expect.classNames.length && datasetClasses.every((name, i) => name === expect.classNames[i]);
  if (!same) throw new ClassMismatchError(datasetClasses, expect.classNames, expect.source);
}

const adapterFactories = new Map<string, () => TaskAdapter>();

/** Detection registers itself here; the loop creates a fresh adapter per run. */
export function registerTaskAdapter(task: TaskAdapter["task"], create: () => TaskAdapter): void {
  adapterFactories.set(task, create);
}

export function createTaskAdapter(task: TaskAdapter["task"]): TaskAdapter {
  const create = adapterFactories.get(task);
  if (!create) throw new Error(`no training adapter for task "${task}"; available: ${[...adapterFactories.keys()].join(", ")}`);
  return create();
}
