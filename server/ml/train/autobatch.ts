// AutoBatch (`batch: -1`): the batch that fills a share of the device's free memory, found as
// Ultralytics' autobatch does — measure a training step's memory at a few small batch sizes, fit
// memory = intercept + slope · batch, solve for the target — then confirmed with one real step.
import { execFile } from "node:child_process";
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { capabilitiesOf, initBackend, parseDevice, type BackendInfo } from "../backend/index";
import { compileGraph } from "../graph/index";
import { findZooModel, zooGraph } from "../zoo/index";
import type { PreparedTask, TaskAdapter } from "./adapter";
import { TrainConfigError, type AutoBatchRecord, type TrainConfig } from "./config";
import { resolveTrainingBackend, resolveWorkers } from "./stepper";

/** Ultralytics' default: leave 40 % of the free memory for everything a step does not show. */
export const AUTOBATCH_FRACTION = 0.6;
const PROBE_BATCHES = [1, 2, 4, 8, 16];
const MAX_BATCH = 1024;
/** A smaller batch tried when the confirming step does not fit. */
const SHRINK = 0.75;
const CONFIRM_ATTEMPTS = 3;

export interface MemoryBudget {
  /** Bytes one thread's training step may use now. */
  freeBytes: number;
  totalBytes: number | null;
  /** Where the memory is, for the log: "WebAssembly heap of one thread", "GPU 0 (nvidia-smi)", "host RAM". */
  what: string;
}

export interface BatchFit {
  samples: { batch: number; peakBytes: number }[];
  bytesPerImage: number;
  interceptBytes: number;
  /** Images per thread that use `fraction` of the free memory by the fit. */
  perThread: number;
}

/** Least squares over (batch, bytes): what one more image costs and what a step costs regardless. */
export function fitLinear(samples: { batch: number; peakBytes: number }[]): { slope: number; intercept: number } {
  const n = samples.length;
  const mx = samples.reduce((s, p) => s + p.batch, 0) / n;
  const my = samples.reduce((s, p) => s + p.peakBytes, 0) / n;
  const sxx = samples.reduce((s, p) => s + (p.batch - mx) ** 2, 0);
  const sxy = samples.reduce((s, p) => s + (p.batch - mx) * (p.peakBytes - my), 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}

/** The batch whose fitted memory is `fraction` of `freeBytes`; a fit that does not grow with the batch is read proportionally (safer). */
export function batchForBudget(samples: { batch: number; peakBytes: number }[], freeBytes: number, fraction = AUTOBATCH_FRACTION): BatchFit {
  let { slope, intercept } = fitLinear(samples);
  if (!(slope > 0)) {
    slope = Math.max(...samples.map((s) => s.peakBytes / s.batch));
    intercept = 0;
  }
  const perThread = Math.max(1, Math.min(MAX_BATCH, Math.floor((freeBytes * fraction - intercept) / slope)));
  return { samples, bytesPerImage: slope, interceptBytes: intercept, perThread };
}

const runNvidiaSmi = (args: string[]) =>
  new Promise<string>((resolve, reject) => execFile("nvidia-smi", args, { timeout: 5000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))));

/** Free memory of GPU `index` for this process: its total, less what other processes hold and what our tensors hold. */
async function gpuBudget(index: number): Promise<MemoryBudget> {
  let gpus: string;
  let apps: string;
  try {
    gpus = await runNvidiaSmi(["--query-gpu=index,uuid,memory.total,memory.used", "--format=csv,noheader,nounits"]);
    apps = await runNvidiaSmi(["--query-compute-apps=pid,gpu_uuid,used_memory", "--format=csv,noheader,nounits"]).catch(() => "");
  } catch (error) {
    throw new TrainConfigError(`batch: -1 (AutoBatch) reads the GPU's memory with nvidia-smi, which failed: ${(error as Error).message}`, "batch");
  }
  const row = gpus
    .split("\n")
    .map((line) => line.split(",").map((c) => c.trim()))
    .find((cells) => Number(cells[0]) === index);
  if (!row) throw new TrainConfigError(`batch: -1 (AutoBatch): nvidia-smi lists no GPU ${index}`, "batch");
  const mib = 2 ** 20;
  const [total, used] = [Number(row[2]) * mib, Number(row[3]) * mib];
  // TensorFlow reserves GPU memory for its allocator up front: ours counts as free, less our live tensors.
  const ours = apps
    .split("\n")
    .map((line) => line.split(",").map((c) => c.trim()))
    .filter((cells) => Number(cells[0]) === process.pid && cells[1] === row[1])
    .reduce((s, cells) => s + Number(cells[2]) * mib, 0);
  return { freeBytes: Math.max(0, total - (used - ours) - tf.memory().numBytes), totalBytes: total, what: `GPU ${index} (nvidia-smi)` };
}

/** The memory one thread's step draws from on `backend`. */
export async function memoryBudget(backend: BackendInfo): Promise<MemoryBudget> {
  const caps = capabilitiesOf(backend);
  if (caps.gpu) {
    const index = backend.ort ? backend.ort.deviceId : backend.device.startsWith("cuda:") ? Number(backend.device.slice("cuda:".length)) : 0;
    return gpuBudget(index);
  }
  if (caps.heapBytes !== null) {
    return { freeBytes: Math.max(0, caps.heapBytes - tf.memory().numBytes), totalBytes: caps.heapBytes, what: `WebAssembly heap of one thread (${(caps.heapBytes / 2 ** 30).toFixed(0)} GiB)` };
  }
  return { freeBytes: os.freemem(), totalBytes: os.totalmem(), what: "host RAM (available)" };
}

/** Runs `step` with the model's non-trainable weights (BatchNorm statistics) put back afterwards. */
function keepingStatistics<T>(model: tf.LayersModel, step: () => T): T {
  const saved = model.nonTrainableWeights.map((w) => tf.clone(w.read()));
  try {
    return step();
  } finally {
    model.nonTrainableWeights.forEach((w, i) => w.write(saved[i]));
    tf.dispose(saved);
  }
}

/** Bytes a forward and backward pass over `inputs` and `loss` adds at its peak (tf.profile), weights left as they were. */
async function stepPeakBytes(model: tf.LayersModel, inputs: () => tf.Tensor, loss: (outputs: tf.Tensor | tf.Tensor[]) => tf.Scalar): Promise<number> {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = tf.memory().numBytes;
  const info = await tf.profile(() =>
    keepingStatistics(model, () =>
      tf.tidy(() => {
        const x = inputs();
        const { value, grads } = tf.variableGrads(() => loss(model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[]), variables);
        tf.dispose([value, ...Object.values(grads)]);
      }),
    ),
  );
  return Math.max(0, info.peakBytes - before);
}

/** Ultralytics profiles the outputs' sum; the outputs' means give the same tape with tamer gradients. */
const outputsMean = (outputs: tf.Tensor | tf.Tensor[]) => tf.addN((Array.isArray(outputs) ? outputs : [outputs]).map((o) => o.mean())) as tf.Scalar;

function isOutOfMemory(error: unknown, backend: BackendInfo): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return (capabilitiesOf(backend).outOfMemory ?? /out of memory|OOM|resource exhausted/i).test(message);
}

/**
 * A training step's memory at batch 1, 2, 4, 8, 16 on random images (stopping before a batch that
 * could not fit), fitted and solved for `fraction` of the budget.
 */
export async function measureBatchFit(opts: { model: tf.LayersModel; inputShape: [number, number, number]; backend: BackendInfo; budget: MemoryBudget; fraction?: number }): Promise<BatchFit> {
  const samples: { batch: number; peakBytes: number }[] = [];
  for (const batch of PROBE_BATCHES) {
    const previous = samples.at(-1);
    if (previous && previous.peakBytes * (batch / previous.batch) > opts.budget.freeBytes * 0.9) break;
    try {
      samples.push({ batch, peakBytes: await stepPeakBytes(opts.model, () => tf.randomNormal([batch, ...opts.inputShape]), outputsMean) });
    } catch (error) {
      if (!isOutOfMemory(error, opts.backend) || samples.length === 0) throw error;
      break;
    }
  }
  return batchForBudget(samples, opts.budget.freeBytes, opts.fraction);
}

/** One real step (a real batch, the task's own loss) of `perThread` images: its peak, or why it does not fit. */
async function confirmStep<B extends { size: number }>(prepared: PreparedTask<B>, adapter: TaskAdapter<B>, backend: BackendInfo, budget: MemoryBudget): Promise<{ peakBytes: number } | { failed: string }> {
  const batches = prepared.trainLoader.epoch(1)[Symbol.asyncIterator]();
  const first = await batches.next();
  await batches.return?.();
  if (first.done) return { failed: "the loader gave no batch" };
  const batch = first.value;
  try {
    const peakBytes = await stepPeakBytes(prepared.model, () => adapter.inputs(batch), (outputs) => adapter.loss(outputs, batch));
    return peakBytes <= budget.freeBytes ? { peakBytes } : { failed: `its step peaked at ${gib(peakBytes)}, over the ${gib(budget.freeBytes)} free` };
  } catch (error) {
    if (!isOutOfMemory(error, backend)) throw error;
    return { failed: `it ran out of memory (${(error as Error).message.slice(0, 120)})` };
  }
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * `batch: -1`: measures on the run's own model and device, picks the batch, confirms it with one real
 * step (a smaller one if that does not fit) and returns the config with that batch and what was
 * measured (`autobatch`, written to args.json). Everything it builds is released before it returns.
 */
export async function resolveAutoBatch<B extends { size: number }>(
  config: TrainConfig,
  opts: { adapter: TaskAdapter<B>; backend: BackendInfo; expect?: { classNames: string[]; source: string }; log: (message: string) => void },
): Promise<TrainConfig> {
  const quiet = () => {};
  const prepare = (batch: number) => opts.adapter.prepare({ ...config, batch, cache: false }, quiet, opts.expect);
  const release = async (prepared: PreparedTask<B>) => {
    await prepared.trainLoader.close();
    await prepared.valLoader?.close();
    prepared.model.dispose();
  };

  const probe = await prepare(1);
  let fit: BatchFit;
  let budget: MemoryBudget;
  let workers: number;
  let trainingBackend: BackendInfo;
  const trainImages = probe.trainLoader.count;
  try {
    trainingBackend = resolveTrainingBackend(opts.backend, { model: probe.model, graph: probe.graph, inputShape: probe.inputShape, adapter: opts.adapter, workers: config.workers });
    if (capabilitiesOf(trainingBackend).stepper !== "tfjs") {
      opts.log(`AutoBatch: ONNX Runtime does not report its memory use, so the step is measured with TF.js (${trainingBackend.companion?.description ?? "its companion backend"}) against the same memory`);
    }
    workers = resolveWorkers(config.workers, trainingBackend, opts.adapter);
    budget = await memoryBudget(trainingBackend);
    fit = await measureBatchFit({ model: probe.model, inputShape: probe.inputShape, backend: trainingBackend, budget });
  } finally {
    await release(probe);
  }

  const sampled = fit.samples.map((s) => `${s.batch}: ${mib(s.peakBytes)}`).join(", ");
  opts.log(`AutoBatch: a training step on ${budget.what} takes ${sampled} → ${mib(fit.bytesPerImage)} per image + ${mib(fit.interceptBytes)}; ${fit.perThread} image(s) per thread use ${AUTOBATCH_FRACTION * 100}% of ${gib(budget.freeBytes)} free`);
  // A batch beyond the training set would only repeat images within one step.
  let perThread = Math.max(1, Math.min(fit.perThread, Math.ceil(trainImages / workers)));
  for (let attempt = 1; ; attempt++) {
    const prepared = await prepare(perThread);
    let outcome: Awaited<ReturnType<typeof confirmStep>>;
    try {
      outcome = await confirmStep(prepared, opts.adapter, trainingBackend, budget);
    } finally {
      await release(prepared);
    }
    if ("peakBytes" in outcome) {
      const batch = perThread * workers;
      const record: AutoBatchRecord = {
        fraction: AUTOBATCH_FRACTION,
        memory: budget.what,
        freeBytes: budget.freeBytes,
        samples: fit.samples,
        bytesPerImage: Math.round(fit.bytesPerImage),
        interceptBytes: Math.round(fit.interceptBytes),
        perThread,
        workers,
        batch,
        confirmedPeakBytes: outcome.peakBytes,
      };
      opts.log(`AutoBatch: batch ${batch}${workers > 1 ? ` (${workers} threads × ${perThread})` : ""}, confirmed by one real step that peaked at ${gib(outcome.peakBytes)} (${Math.round((outcome.peakBytes / budget.freeBytes) * 100)}% of the free memory)`);
      return { ...config, batch, autobatch: record };
    }
    if (perThread === 1 || attempt === CONFIRM_ATTEMPTS) {
      throw new TrainConfigError(`batch: -1 (AutoBatch): even ${perThread} image(s) per thread do not fit: ${outcome.failed}; lower imgsz or use a smaller model`, "batch");
    }
    const smaller = Math.max(1, Math.floor(perThread * SHRINK));
    opts.log(`AutoBatch: ${perThread} image(s) per thread do not fit: ${outcome.failed}; trying ${smaller}`);
    perThread = smaller;
  }
}

/**
 * AutoBatch's measurement for a zoo model on `device` without a dataset (random images; the fit, not
 * a confirmed batch): what the studio's optimal_config advice reads.
 */
export async function measureZooModel(opts: { model: string; imgsz: number; numClasses: number; device: string }): Promise<{ backend: BackendInfo; budget: MemoryBudget; fit: BatchFit; workers: number }> {
  const backend = await initBackend(parseDevice(opts.device));
  const inputShape: [number, number, number] = [opts.imgsz, opts.imgsz, 3];
  const model = compileGraph(zooGraph(opts.model, { imgsz: opts.imgsz, numClasses: opts.numClasses }), { inputShape });
  try {
    const trainingBackend = resolveTrainingBackend(backend, { model, inputShape, adapter: { dataParallel: undefined } });
    const workers = resolveWorkers("auto", trainingBackend, { task: findZooModel(opts.model).task, dataParallel: capabilitiesOf(trainingBackend).dataParallel || undefined });
    const budget = await memoryBudget(trainingBackend);
    return { backend: trainingBackend, budget, fit: await measureBatchFit({ model, inputShape, backend: trainingBackend, budget }), workers };
  } finally {
    model.dispose();
  }
}
