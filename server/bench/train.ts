/**
 * Training throughput through the step train() runs (train/stepper.ts: forward, loss, gradients on
 * one or several threads, clipping, our Adam), per (model, backend, threads), on random data.
 * One JSON line each, with the ratio to PyTorch for the reference CNN; ort lines add the share of the
 * step inside session.run and in JavaScript (feeds, accumulation, clipping, optimizer).
 *   npm run bench:train -- [--models reference-cnn,resnet18,mobilenet_v2] [--backends wasm,ort] [--workers 1,2] [--seconds 10] [--rounds 1] [--profile]
 * Backends are TF.js backend names and ort devices (ort; ort:cuda:0 on a GPU host with the CUDA provider).
 * --workers defaults to 1 and, for single-threaded backends, what workers=auto picks here.
 * --rounds N times every backend N times in turn (fair on a busy host) and ends with a summary line of medians.
 * --profile prints the kernels of one single-thread step (tf.profile) to stderr (TF.js backends).
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { availableDevices, initBackend, withDataParallelThreads, type BackendInfo, type Device } from "../ml/backend/index";
import type { Batch } from "../ml/data/loader";
import { compileGraph } from "../ml/graph/index";
import { zooGraph } from "../ml/zoo/index";
import { CLASSIFY_REPLICA_MODULE, classificationLoss, replicaInput, sliceBatch, trainAccuracy } from "../ml/train/classify-loss";
import { TrainOptimizer, type TrainableVariable } from "../ml/train/optimizers";
import { createTrainStepper, resolveTrainingBackend, resolveWorkers, trainStep, type StepAdapter } from "../ml/train/stepper";

/** PyTorch 1.13, 2 CPU threads, reference CNN 64×64 batch 32 Adam (MEASUREMENTS.md). */
const PYTORCH_REFERENCE_IMGS_PER_SEC = 964;
export const NUM_CLASSES = 10;
const CLIP_GRAD = 10;

export interface BenchCase {
  model: string;
  imgsz: number;
  batch: number;
}

export const CASES: BenchCase[] = [
  { model: "reference-cnn", imgsz: 64, batch: 32 },
  { model: "resnet18", imgsz: 96, batch: 16 },
  { model: "mobilenet_v2", imgsz: 96, batch: 16 },
];

/** The classification adapter's step pieces (train/classify.ts uses the same functions). */
const adapter: StepAdapter<Batch> & { task: "classify" } = {
  task: "classify",
  inputs: (batch) => tf.tensor4d(batch.x, [batch.size, batch.imgsz, batch.imgsz, 3]),
  loss: (outputs, batch) => classificationLoss(outputs as tf.Tensor, batch.y, NUM_CLASSES, 0, false),
  trainMetrics: (outputs, batch) => ({ acc: trainAccuracy(outputs as tf.Tensor, batch.y) }),
  dataParallel: {
    replicaTask: () => ({ module: CLASSIFY_REPLICA_MODULE, options: { numClasses: NUM_CLASSES, labelSmoothing: 0, probabilities: false } }),
    slice: sliceBatch,
    replicaInput,
  },
};

/**
 * One target per distinct engine: devices "auto" and "cpu" often resolve to the same backend as "wasm";
 * ONNX Runtime's devices (ort, ort:cuda:N) are targets of their own.
 */
async function benchTargets(): Promise<{ label: string; device: Device }[]> {
  const targets: { label: string; device: Device }[] = [];
  for (const { device, backend } of await availableDevices()) {
    const label = backend === "ort" ? device : backend;
    if (device !== "auto" && !targets.some((t) => t.label === label)) targets.push({ label, device });
  }
  return targets;
}

function parseTarget(label: string, available: { label: string; device: Device }[]): { label: string; device: Device } {
  const found = available.find((t) => t.label === label);
  if (found) return found;
  // ort:cuda:N is not listed where the CUDA provider is missing; initBackend then says what to install.
  if (/^ort:cuda:\d+$/.test(label)) return { label, device: label as Device };
  throw new Error(`backend "${label}" is not available here; available: ${available.map((t) => t.label).join(", ")}`);
}

function randomBatch(c: BenchCase): Batch {
  const x = tf.tidy(() => tf.randomUniform([c.batch, c.imgsz, c.imgsz, 3], 0, 1, "float32", 7).dataSync() as Float32Array);
  const y = Int32Array.from({ length: c.batch }, (_, i) => (i * 7) % NUM_CLASSES);
  return { x, y, size: c.batch, imgsz: c.imgsz };
}

/** Runs two warm-up steps, then steps until `seconds` have passed (at least 3, at most 200). */
async function timeSteps(step: () => Promise<void>, seconds: number): Promise<{ steps: number; msPerStep: number }> {
  await step();
  await step();
  const start = performance.now();
  let steps = 0;
  while (steps < 3 || (steps < 200 && performance.now() - start < seconds * 1000)) {
    await step();
    steps++;
  }
  return { steps, msPerStep: (performance.now() - start) / steps };
}

function buildModel(c: BenchCase) {
  const graph = zooGraph(c.model, { imgsz: c.imgsz, numClasses: NUM_CLASSES });
  const inputShape: [number, number, number] = [c.imgsz, c.imgsz, 3];
  const model = compileGraph(graph, { inputShape, seed: 0 });
  const trainable: TrainableVariable[] = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  return { model, trainable, graph, inputShape };
}

const newOptimizer = () => new TrainOptimizer({ name: "Adam", momentum: 0.9, nesterov: false, weightDecay: 0 });

export interface StepperTiming {
  steps: number;
  msPerStep: number;
  /** The backend that trained (ort falls back to TF.js for a model it has no training graph for). */
  backend: BackendInfo;
  /** ort: milliseconds per step inside session.run and in the rest of step() (feeds, accumulation, clipping, optimizer). */
  runMs?: number;
  jsMs?: number;
}

export async function benchStepper(c: BenchCase, backend: BackendInfo, workers: number, seconds: number): Promise<StepperTiming> {
  const { model, trainable, graph, inputShape } = buildModel(c);
  const optimizer = newOptimizer();
  const trainingBackend = resolveTrainingBackend(backend, { model, graph, inputShape, adapter, log: (message) => console.error(message) });
  const stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: CLIP_GRAD, workers, backend: trainingBackend, graph, inputShape });
  const batch = randomBatch(c);
  try {
    // The first step creates ort's session (and times its formulations): left out of the split below.
    if (stepper.timings) await stepper.step(batch, 1e-3);
    const before = stepper.timings?.();
    const timing = await timeSteps(async () => {
      await stepper.step(batch, 1e-3);
    }, seconds);
    const after = stepper.timings?.();
    if (!before || !after) return { ...timing, backend: trainingBackend };
    const steps = after.steps - before.steps;
    return { ...timing, backend: trainingBackend, runMs: (after.runMs - before.runMs) / steps, jsMs: (after.jsMs - before.jsMs) / steps };
  } finally {
    await stepper.close();
    optimizer.dispose();
    model.dispose();
  }
}

/** Kernel times of one single-thread step, largest first. */
async function printProfile(c: BenchCase, label: string): Promise<void> {
  const { model, trainable } = buildModel(c);
  const optimizer = newOptimizer();
  const batch = randomBatch(c);
  const step = () => tf.dispose(Object.values(trainStep(model, adapter, optimizer, trainable, batch, 1e-3, CLIP_GRAD)));
  step();
  const info = await tf.profile(step);
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += k.kernelTimeMs as number;
    entry.calls += 1;
    byKernel.set(k.name, entry);
  }
  const total = [...byKernel.values()].reduce((sum, k) => sum + k.ms, 0);
  console.error(`profile ${c.model} on ${label}, one thread: ${total.toFixed(1)} ms in kernels`);
  for (const [name, { ms, calls }] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    console.error(`  ${name.padEnd(28)} ${ms.toFixed(2).padStart(9)} ms  ${String(calls).padStart(4)} calls  ${((ms / total) * 100).toFixed(1)}%`);
  }
  optimizer.dispose();
  model.dispose();
}

export async function runTrainBench(print: (line: string) => void = (line) => console.log(line), argv: string[] = []): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: "string", default: CASES.map((c) => c.model).join(",") },
      backends: { type: "string" },
      workers: { type: "string" },
      seconds: { type: "string", default: "10" },
      rounds: { type: "string", default: "1" },
      profile: { type: "boolean", default: false },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Math.max(1, Number(values.rounds));
  const available = await benchTargets();
  const targets = values.backends ? values.backends.split(",").map((label) => parseTarget(label, available)) : available;
  const cases = values.models.split(",").map((name) => {
    const found = CASES.find((c) => c.model === name);
    if (!found) throw new Error(`unknown bench model "${name}"; available: ${CASES.map((c) => c.model).join(", ")}`);
    return found;
  });

  const round1 = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
  for (const c of cases) {
    const results = new Map<string, number[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const info = await initBackend(target.device);
        if (values.profile && round === 1 && info.backend !== "ort") await printProfile(c, target.label);
        const auto = resolveWorkers("auto", info, adapter);
        // ort runs ONNX Runtime's own threads: one stepper thread only.
        const threadCounts = info.backend === "ort" ? [1] : values.workers ? values.workers.split(",").map(Number) : [...new Set([1, auto])];
        for (const workers of threadCounts) {
          const timing = await benchStepper(c, info, resolveWorkers(workers, info, adapter), seconds / rounds);
          const imgsPerSec = (c.batch / timing.msPerStep) * 1000;
          const reference = c.model === "reference-cnn" ? PYTORCH_REFERENCE_IMGS_PER_SEC : undefined;
          const key = `${target.label}${threadCounts.length > 1 ? ` workers=${workers}` : ""}`;
          results.set(key, [...(results.get(key) ?? []), imgsPerSec]);
          const split =
            timing.runMs !== undefined && timing.jsMs !== undefined
              ? {
                  session_run_ms: round1(timing.runMs, 2),
                  js_ms: round1(timing.jsMs, 2),
                  session_run_share: round1(timing.runMs / (timing.runMs + timing.jsMs), 3),
                  js_share: round1(timing.jsMs / (timing.runMs + timing.jsMs), 3),
                }
              : {};
          print(
            JSON.stringify({
              model: c.model,
              backend: target.label,
              ...(rounds > 1 ? { round } : {}),
              workers,
              description: (workers > 1 ? withDataParallelThreads(timing.backend, workers) : timing.backend).description,
              imgsz: c.imgsz,
              batch: c.batch,
              optimizer: "Adam",
              imgs_per_sec: round1(imgsPerSec),
              step_ms: round1(timing.msPerStep),
              ...split,
              steps: timing.steps,
              ...(reference ? { pytorch_imgs_per_sec: reference, ratio_to_pytorch: round1(imgsPerSec / reference, 3) } : {}),
            }),
          );
        }
      }
    }
    if (rounds > 1) {
      const median = (v: number[]) => {
        const sorted = [...v].sort((a, b) => a - b);
        const mid = Math.floor(sorted.length / 2);
        return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      };
      const medians = Object.fromEntries([...results].map(([key, v]) => [key, round1(median(v))]));
      print(JSON.stringify({ model: c.model, summary: "median imgs_per_sec over rounds", rounds, ...medians }));
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runTrainBench(undefined, process.argv.slice(2)).catch((error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
