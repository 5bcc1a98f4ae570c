// One optimisation step, on this thread or split over worker threads. Either way the update is
// applied here, by our TrainOptimizer after clipByGlobalNorm, so optimizer state, weight decay,
// schedules and checkpoints do not depend on how many threads computed the gradients. On the `ort`
// backend ONNX Runtime computes the step instead (server/ml/ort/trainer.ts), with the same state.
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { capabilitiesOf, type BackendInfo } from "../backend/index";
import { createGradientReplicas, nonTrainableIndices, type GradientReplicas } from "../backend/parallel";
import type { ModelGraph } from "../graph/schema";
import { OrtTrainer, ortTrainerSupport } from "../ort/trainer";
import type { DataParallelSupport, ModelForward, TaskAdapter } from "./adapter";
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
  const singleThreaded = capabilitiesOf(backend).dataParallel;
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

/**
 * Bytes the WASM backend holds per activation value during a training step (the forward tensors the
 * tape keeps plus their gradients; tf.profile's peakBytes on yolov8n at 320 and 640 px: 21), with a margin.
 */
const WASM_TRAIN_BYTES_PER_ACTIVATION = 24;
/** Per thread and micro-batch, of a heap's bytes: weights, optimizer state and fragmentation need the rest. */
const HEAP_SHARE_FOR_ACTIVATIONS = 0.75;

/** Values all layers of `model` output for one input image: what a training step keeps per image. */
export function activationsPerImage(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    const shape = layer.outputShape;
    const shapes = (Array.isArray(shape[0]) ? shape : [shape]) as (number | null)[][];
    for (const s of shapes) total += s.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
  }
  return total;
}

/**
 * Images per forward/backward pass and thread (`micro_batch`). A batch larger than that is split
 * into micro-batches whose gradients add up to the whole batch's before one update (gradient
 * accumulation, Darknet's "subdivisions"). "auto" keeps the whole batch except on WASM, whose
 * 4 GiB heap per thread bounds the activations a step may hold.
 */
export function resolveMicroBatch(
  setting: "auto" | number,
  batch: number,
  backend: BackendInfo,
  model: tf.LayersModel,
  adapter: { readonly task: string; readonly dataParallel?: unknown },
): number {
  if (setting !== "auto") {
    if (setting >= batch) return batch;
    if (!adapter.dataParallel) throw new TrainConfigError(`micro_batch: ${adapter.task} training cannot split batches (set micro_batch to "auto")`, "micro_batch");
    return setting;
  }
  const heapBytes = capabilitiesOf(backend).heapBytes;
  if (heapBytes === null || !adapter.dataParallel) return batch;
  const fits = Math.floor((heapBytes * HEAP_SHARE_FOR_ACTIVATIONS) / (activationsPerImage(model) * WASM_TRAIN_BYTES_PER_ACTIVATION));
  return Math.max(1, Math.min(batch, fits));
}

/**
 * A step's failure as the user should read it: running out of WASM memory becomes a config error
 * that says which setting to lower; anything else is passed on as it is.
 */
export function explainStepFailure(error: unknown, backend: BackendInfo, imagesPerPass: number): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const outOfMemory = capabilitiesOf(backend).outOfMemory;
  if (!outOfMemory?.test(message)) return error;
  const advice = imagesPerPass > 1 ? `set micro_batch to ${Math.floor(imagesPerPass / 2)} or lower` : "lower imgsz, or train where @tensorflow/tfjs-node is installed";
  return new TrainConfigError(`out of WebAssembly memory (4 GiB per thread) training ${imagesPerPass} image(s) per pass: ${advice} (${message})`, "micro_batch");
}

/**
 * Sizes of the shares of one batch, grouped in rounds: each round runs one share per thread at once,
 * no share larger than `microBatch`, and as few rounds as that allows.
 */
export function planRounds(size: number, workers: number, microBatch: number): number[][] {
  const needed = Math.max(1, Math.ceil(size / microBatch));
  const shares = Math.min(size, Math.ceil(needed / workers) * workers);
  const sizes = shareSizes(size, shares);
  const rounds: number[][] = [];
  for (let i = 0; i < sizes.length; i += workers) rounds.push(sizes.slice(i, i + workers));
  return rounds;
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
  /** Images per forward/backward pass and thread. */
  readonly microBatch: number;
  /** Trains on one batch; resolves to its mean loss and training metrics. */
  step(batch: B, lr: number): Promise<Record<string, number>>;
  /** Makes the model's weights and the optimizer's state current (ort keeps its own copies while training). */
  sync(): void;
  /** ort: the model's inference-mode output from its own graphs, on the current weights (validation). */
  forward?: ModelForward;
  /** ort: the backend that trains, and where its steps spent their time so far (session.run vs JavaScript). */
  readonly backend?: BackendInfo;
  timings?(): { runMs: number; jsMs: number; steps: number };
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
  /** Images per pass and thread (resolveMicroBatch); default: whole shares. */
  microBatch?: number;
  backend: BackendInfo;
  /** ort: the layer graph the model was compiled from, and its input shape [H, W, C]. */
  graph?: ModelGraph;
  inputShape?: [number, number, number];
  log?: (message: string) => void;
}

/**
 * The backend that trains this model: `backend` itself, except that an engine that trains only
 * some layer graphs (ort: those whose layer types all have training emitters, server/ml/ort/) falls
 * back to the TF.js backend beside it for other models, saying why through `log`. So does `auto`
 * when the run asks for data-parallel threads (`workers` > 1) that only TF.js uses.
 */
export function resolveTrainingBackend(
  backend: BackendInfo,
  opts: {
    model: tf.LayersModel;
    graph?: ModelGraph;
    inputShape: [number, number, number];
    adapter: { readonly dataParallel?: DataParallelSupport<{ size: number }> };
    workers?: "auto" | number;
    log?: (message: string) => void;
  },
): BackendInfo {
  const { companion } = backend;
  if (capabilitiesOf(backend).trainsAnyModel || !companion) return backend;
  const threads = opts.workers;
  if (backend.device === "auto" && typeof threads === "number" && threads > 1 && capabilitiesOf(companion).dataParallel) {
    opts.log?.(`workers: ${threads} data-parallel threads run on TF.js (ONNX Runtime uses every core itself). Training on TF.js: ${companion.description}`);
    return companion;
  }
  const reason = ortTrainerSupport(opts);
  if (reason === null) return backend;
  opts.log?.(`ONNX Runtime cannot train this model: ${reason}. Training on TF.js instead: ${companion.description}`);
  return companion;
}

async function createOrtStepper<B extends { size: number }>(opts: TrainStepperOptions<B>): Promise<TrainStepper<B>> {
  const { backend } = opts;
  if (!opts.inputShape) throw new Error("the ort backend needs the model's input shape (inputShape)");
  const fallback = resolveTrainingBackend(backend, { ...opts, inputShape: opts.inputShape });
  if (fallback !== backend || !opts.graph) return createTrainStepper({ ...opts, backend: fallback, workers: 1 });
  const microBatch = opts.microBatch ?? Number.POSITIVE_INFINITY;
  const trainer = await OrtTrainer.create(
    {
      model: opts.model,
      graph: opts.graph,
      inputShape: opts.inputShape,
      adapter: opts.adapter,
      optimizer: opts.optimizer,
      trainable: opts.trainable,
      clipGrad: opts.clipGrad,
      microBatch,
      target: { provider: backend.ort?.provider ?? "cpu", deviceId: backend.ort?.deviceId ?? 0, threads: backend.threads },
      log: opts.log,
    },
    Number.isFinite(microBatch) ? microBatch : undefined,
  );
  const chosen = trainer.describe();
  if (chosen) opts.log?.(`ONNX Runtime training graph formulations (measured on this host): ${chosen}`);
  return {
    workers: 1,
    microBatch,
    backend,
    step: (batch, lr) => trainer.step(batch, lr),
    forward: (x, images) => trainer.predict(x, images),
    sync: () => trainer.sync(),
    timings: () => ({ ...trainer.timings }),
    close: () => trainer.close(),
  };
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
 * A batch is trained as rounds of shares (planRounds). In each round this thread computes the first
 * share while worker threads holding replicas of the model (backend/parallel.ts), given the current
 * weights, compute the others. Gradients are summed over all shares weighted by share size (the
 * loss is a mean, so this is the whole batch's gradient) and applied here once per batch.
 * Non-trainable weights (BatchNorm moving statistics) are averaged over each round's shares, so
 * later rounds continue from them as a sequential pass would.
 */
export async function createTrainStepper<B extends { size: number }>(opts: TrainStepperOptions<B>): Promise<TrainStepper<B>> {
  if (capabilitiesOf(opts.backend).stepper === "onnx-graphs") return createOrtStepper(opts);
  const { model, adapter, optimizer, trainable, clipGrad, workers } = opts;
  const microBatch = opts.microBatch ?? Number.POSITIVE_INFINITY;
  const wholeBatch = (batch: B, lr: number) => readScalars(trainStep(model, adapter, optimizer, trainable, batch, lr, clipGrad));
  const explained =
    (run: (batch: B, lr: number) => Promise<Record<string, number>>) =>
    async (batch: B, lr: number): Promise<Record<string, number>> => {
      try {
        return await run(batch, lr);
      } catch (error) {
        throw explainStepFailure(error, opts.backend, Math.max(...planRounds(batch.size, workers, microBatch).flat()));
      }
    };
  if (workers === 1 && microBatch === Number.POSITIVE_INFINITY) return { workers, microBatch, step: explained(wholeBatch), sync: () => {}, close: async () => {} };
  if (!adapter.dataParallel) throw new TrainConfigError(`workers: ${workers} threads and micro-batches need a task that can split batches`, "workers");
  const support: DataParallelSupport<B> = adapter.dataParallel;
  let replicas: GradientReplicas | undefined;
  if (workers > 1) {
    if (!capabilitiesOf(opts.backend).dataParallel) {
      throw new TrainConfigError(`workers: ${workers} threads need the wasm or cpu backend, not ${opts.backend.backend}`, "workers");
    }
    const modelTrainable = new Set(model.trainableWeights.map((w) => (w.read() as tf.Variable).name));
    if (trainable.length !== modelTrainable.size || trainable.some((t) => !modelTrainable.has(t.variable.name))) {
      throw new Error("data-parallel training needs the optimizer's variables to be exactly the model's trainable weights");
    }
    replicas = await createGradientReplicas({ model, device: opts.backend.device, task: support.replicaTask(), count: workers - 1, setupModules: LAYER_MODULES });
  }
  const frozen = nonTrainableIndices(model);

  /** Adds one round's weighted gradients to `sum` (kept tensors); returns the round's weighted metrics. */
  async function trainRound(batch: B, start: number, sizes: number[], sum: tf.NamedTensorMap): Promise<Record<string, number>> {
    const starts = sizes.map((_, i) => start + sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const remote = sizes.slice(1).map((size, i) => support.replicaInput(support.slice(batch, starts[i + 1], starts[i + 1] + size)));
    // Starts the replicas first (they copy the weights now), then computes this thread's share meanwhile.
    const pending = remote.length > 0 ? replicas!.compute(model, remote) : Promise.resolve([]);
    const local = tf.tidy(() => batchGradients(model, adapter, trainable, support.slice(batch, start, start + sizes[0])));
    let shares: Awaited<ReturnType<GradientReplicas["compute"]>>;
    try {
      shares = await pending;
    } catch (error) {
      tf.dispose([local.value, ...Object.values(local.grads), ...Object.values(local.extras)]);
      throw error;
    }
    const ofBatch = (size: number) => size / batch.size;
    const roundSize = sizes.reduce((a, b) => a + b, 0);
    const localScalars = await readScalars({ loss: local.value, ...local.extras });
    tf.tidy(() => {
      model.trainableWeights.forEach((w, i) => {
        const name = (w.read() as tf.Variable).name;
        const round = shares.reduce((acc, share, k) => acc.add(tf.tensor(share.gradients[i], w.shape as number[]).mul(ofBatch(sizes[k + 1]))), local.grads[name].mul(ofBatch(sizes[0])));
        const previous = sum[name];
        sum[name] = tf.keep(previous ? previous.add(round) : round);
        previous?.dispose();
      });
      if (shares.length === 0) return;
      for (const [j, index] of frozen.entries()) {
        const w = model.weights[index];
        w.write(shares.reduce((acc, share, k) => acc.add(tf.tensor(share.nonTrainable[j], w.shape as number[]).mul(sizes[k + 1] / roundSize)), w.read().mul(sizes[0] / roundSize)));
      }
    });
    tf.dispose(Object.values(local.grads));
    const result: Record<string, number> = {};
    for (const [name, value] of Object.entries(localScalars)) {
      result[name] = shares.reduce((acc, share, k) => acc + (name === "loss" ? share.loss : share.metrics[name]) * ofBatch(sizes[k + 1]), value * ofBatch(sizes[0]));
    }
    return result;
  }

  async function step(batch: B, lr: number): Promise<Record<string, number>> {
    const rounds = planRounds(batch.size, workers, microBatch);
    if (rounds.length === 1 && rounds[0].length === 1) return wholeBatch(batch, lr);
    const sum: tf.NamedTensorMap = {};
    const totals: Record<string, number> = {};
    try {
      let start = 0;
      for (const sizes of rounds) {
        const values = await trainRound(batch, start, sizes, sum);
        for (const [name, value] of Object.entries(values)) totals[name] = (totals[name] ?? 0) + value;
        start += sizes.reduce((a, b) => a + b, 0);
      }
      tf.tidy(() => optimizer.apply(clipGrad > 0 ? clipByGlobalNorm(sum, clipGrad).grads : sum, trainable, lr));
    } finally {
      tf.dispose(Object.values(sum));
    }
    return totals;
  }

  return { workers, microBatch, step: explained(step), sync: () => {}, close: async () => replicas?.close() };
}
