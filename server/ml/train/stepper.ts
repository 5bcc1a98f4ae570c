// One optimisation step, on this thread or split over worker threads. Either way the update is
// applied here, by our TrainOptimizer after clipByGlobalNorm, so optimizer state, weight decay,
// schedules and checkpoints do not depend on how many threads computed the gradients.
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import type { BackendInfo } from "../backend/index";
import { createGradientReplicas, nonTrainableIndices, type GradientReplicas } from "../backend/parallel";
import type { DataParallelSupport, TaskAdapter } from "./adapter";
import { TrainConfigError } from "./config";
import { clipByGlobalNorm, type TrainOptimizer, type TrainableVariable } from "./optimizers";

/** Modules that register custom layer classes; worker threads import them before rebuilding a model. */
const LAYER_MODULES = [new URL("../graph/index.ts", import.meta.url).href];

export type StepAdapter<B extends { size: number }> = Pick<TaskAdapter<B>, "inputs" | "loss" | "trainMetrics" | "dataParallel">;

/** The most threads "auto" uses: beyond that, per-image shares get small and copying weights costs more than it saves. */
const MAX_AUTO_WORKERS = 4;

/**
 * Threads for `workers`: "auto" uses one per core (at most 4) when the backend runs one thread
 * (WASM, plain CPU) and the task can split batches; 1 otherwise. An explicit count > 1 that cannot
 * work is an error naming why.
 */
export function resolveWorkers(setting: "auto" | number, backend: BackendInfo, adapter: { readonly task: string; readonly dataParallel?: unknown }): number {
  const singleThreaded = backend.backend === "wasm" || backend.backend === "cpu";
  if (setting === "auto") return singleThreaded && adapter.dataParallel ? Math.min(os.availableParallelism(), MAX_AUTO_WORKERS) : 1;
  if (setting === 1) return 1;
  if (!singleThreaded) {
    throw new TrainConfigError(`workers: ${setting} threads need the wasm or cpu backend; ${backend.description} already uses every core (set workers to "auto" or 1)`, "workers");
  }
  if (!adapter.dataParallel) throw new TrainConfigError(`workers: ${adapter.task} training runs on one thread (set workers to "auto" or 1)`, "workers");
  return setting;
}

/** Batch items per thread: contiguous shares, the first ones one item larger when the batch does not divide evenly. */
export function shareSizes(size: number, workers: number): number[] {
  const active = Math.min(workers, size);
  return Array.from({ length: active }, (_, i) => Math.floor(size / active) + (i < size % active ? 1 : 0));
}

/** Loss, gradients and the adapter's training metrics of one batch, on this thread (inside tf.tidy). */
function batchGradients<B extends { size: number }>(model: tf.LayersModel, adapter: StepAdapter<B>, trainable: TrainableVariable[], batch: B) {
  const x = adapter.inputs(batch);
  let outputs: tf.Tensor | tf.Tensor[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
    // Kept past the tape's own tidy for the training metrics; disposed below.
    outputs = Array.isArray(out) ? out.map((t) => tf.keep(t)) : tf.keep(out);
    return adapter.loss(out, batch);
  }, trainable.map((t) => t.variable));
  const extras = adapter.trainMetrics?.(outputs, batch) ?? {};
  tf.dispose(outputs);
  return { value, grads, extras };
}

/** One optimisation step on this thread; returns the batch loss and the adapter's training metrics as scalars. */
export function trainStep<B extends { size: number }>(
  model: tf.LayersModel,
  adapter: StepAdapter<B>,
  optimizer: TrainOptimizer,
  trainable: TrainableVariable[],
  batch: B,
  lr: number,
  clipGrad: number,
): Record<string, tf.Scalar> {
  return tf.tidy(() => {
    const { value, grads, extras } = batchGradients(model, adapter, trainable, batch);
    optimizer.apply(clipGrad > 0 ? clipByGlobalNorm(grads, clipGrad).grads : grads, trainable, lr);
    return { loss: value, ...extras };
  });
}

export interface TrainStepper<B> {
  readonly workers: number;
  /** Trains on one batch; resolves to its mean loss and training metrics. */
  step(batch: B, lr: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface TrainStepperOptions<B extends { size: number }> {
  model: tf.LayersModel;
  adapter: StepAdapter<B>;
  optimizer: TrainOptimizer;
  trainable: TrainableVariable[];
  clipGrad: number;
  /** Threads, this one included (resolveWorkers). */
  workers: number;
  backend: BackendInfo;
}

async function readScalars(values: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, tensor] of Object.entries(values)) {
    out[name] = (await tensor.data())[0];
    tensor.dispose();
  }
  return out;
}

/**
 * With workers > 1, worker threads hold replicas of the model (backend/parallel.ts). Each step
 * splits the batch: this thread computes the first share while the replicas, given the current
 * weights, compute the others. The gradients are averaged weighted by share (the loss is a mean,
 * so this is the whole batch's gradient), non-trainable weights (BatchNorm moving statistics) too,
 * and the update is applied here.
 */
export async function createTrainStepper<B extends { size: number }>(opts: TrainStepperOptions<B>): Promise<TrainStepper<B>> {
  const { model, adapter, optimizer, trainable, clipGrad, workers } = opts;
  if (workers === 1) {
    return {
      workers,
      step: (batch, lr) => readScalars(trainStep(model, adapter, optimizer, trainable, batch, lr, clipGrad)),
      close: async () => {},
    };
  }
  if (!adapter.dataParallel) throw new TrainConfigError(`workers: ${workers} threads need a task that can split batches`, "workers");
  const support: DataParallelSupport<B> = adapter.dataParallel;
  if (opts.backend.backend !== "wasm" && opts.backend.backend !== "cpu") {
    throw new TrainConfigError(`workers: ${workers} threads need the wasm or cpu backend, not ${opts.backend.backend}`, "workers");
  }
  const replicas = await createGradientReplicas({
    model,
    device: opts.backend.device,
    task: support.replicaTask(),
    count: workers - 1,
    setupModules: LAYER_MODULES,
  });
  const frozen = nonTrainableIndices(model);
  const modelTrainable = new Set(model.trainableWeights.map((w) => (w.read() as tf.Variable).name));
  if (trainable.length !== modelTrainable.size || trainable.some((t) => !modelTrainable.has(t.variable.name))) {
    await replicas.close();
    throw new Error("data-parallel training needs the optimizer's variables to be exactly the model's trainable weights");
  }

  async function step(batch: B, lr: number): Promise<Record<string, number>> {
    const sizes = shareSizes(batch.size, workers);
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const remote = sizes.slice(1).map((size, i) => support.replicaInput(support.slice(batch, starts[i + 1], starts[i + 1] + size)));
    // Starts the replicas first (they copy the weights now), then computes this thread's share meanwhile.
    const pending = remote.length > 0 ? replicas.compute(model, remote) : Promise.resolve([]);
    const local = tf.tidy(() => batchGradients(model, adapter, trainable, support.slice(batch, 0, sizes[0])));
    let shares: Awaited<ReturnType<GradientReplicas["compute"]>>;
    try {
      shares = await pending;
    } catch (error) {
      tf.dispose([local.value, ...Object.values(local.grads), ...Object.values(local.extras)]);
      throw error;
    }
    const localWeight = sizes[0] / batch.size;
    const weightOf = (i: number) => sizes[i + 1] / batch.size;
    const localScalars = await readScalars({ loss: local.value, ...local.extras });
    tf.tidy(() => {
      const grads: tf.NamedTensorMap = {};
      model.trainableWeights.forEach((w, i) => {
        const name = (w.read() as tf.Variable).name;
        grads[name] = shares.reduce((sum, share, k) => sum.add(tf.tensor(share.gradients[i], w.shape as number[]).mul(weightOf(k))), local.grads[name].mul(localWeight));
      });
      for (const [j, index] of frozen.entries()) {
        const w = model.weights[index];
        w.write(shares.reduce((sum, share, k) => sum.add(tf.tensor(share.nonTrainable[j], w.shape as number[]).mul(weightOf(k))), w.read().mul(localWeight)));
      }
      optimizer.apply(clipGrad > 0 ? clipByGlobalNorm(grads, clipGrad).grads : grads, trainable, lr);
    });
    tf.dispose(Object.values(local.grads));
    const result: Record<string, number> = {};
    for (const [name, value] of Object.entries(localScalars)) {
      result[name] = shares.reduce((sum, share, k) => sum + (name === "loss" ? share.loss : share.metrics[name]) * weightOf(k), value * localWeight);
    }
    return result;
  }

  return { workers, step, close: () => replicas.close() };
}
