/**
 * Training throughput through the step train() runs (train/stepper.ts: forward, loss, gradients on
 * one or several threads, clipping, our Adam), per (model, backend, threads), on random data.
 * One JSON line each, with the ratio to PyTorch for the reference CNN.
 *   npm run bench:train -- [--models reference-cnn,resnet18,mobilenet_v2] [--backends wasm] [--workers 1,2] [--seconds 10] [--profile]
 * --workers defaults to 1 and, for single-threaded backends, what workers=auto picks here.
 * --profile prints the kernels of one single-thread step (tf.profile) to stderr.
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
import { createTrainStepper, resolveWorkers, trainStep, type StepAdapter } from "../ml/train/stepper";

/** PyTorch 1.13, 2 CPU threads, reference CNN 64×64 batch 32 Adam (MEASUREMENTS.md). */
const PYTORCH_REFERENCE_IMGS_PER_SEC = 964;
const NUM_CLASSES = 10;
const CLIP_GRAD = 10;

interface BenchCase {
  model: string;
  imgsz: number;
  batch: number;
}

const CASES: BenchCase[] = [
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

/** One target per distinct engine: devices "auto" and "cpu" often resolve to the same backend as "wasm". */
async function benchTargets(): Promise<{ label: string; device: Device }[]> {
  const targets: { label: string; device: Device }[] = [];
  for (const { device, backend } of await availableDevices()) {
    if (device !== "auto" && !targets.some((t) => t.label === backend)) targets.push({ label: backend, device });
  }
  return targets;
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

function buildModel(c: BenchCase): { model: tf.LayersModel; trainable: TrainableVariable[] } {
  const model = compileGraph(zooGraph(c.model, { imgsz: c.imgsz, numClasses: NUM_CLASSES }), { inputShape: [c.imgsz, c.imgsz, 3], seed: 0 });
  const trainable = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  return { model, trainable };
}

const newOptimizer = () => new TrainOptimizer({ name: "Adam", momentum: 0.9, nesterov: false, weightDecay: 0 });

async function benchStepper(c: BenchCase, backend: BackendInfo, workers: number, seconds: number): Promise<{ steps: number; msPerStep: number }> {
  const { model, trainable } = buildModel(c);
  const optimizer = newOptimizer();
  const stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: CLIP_GRAD, workers, backend });
  const batch = randomBatch(c);
  try {
    return await timeSteps(async () => {
      await stepper.step(batch, 1e-3);
    }, seconds);
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
      profile: { type: "boolean", default: false },
    },
  });
  const seconds = Number(values.seconds);
  const available = await benchTargets();
  const targets = values.backends
    ? values.backends.split(",").map((label) => {
        const target = available.find((t) => t.label === label);
        if (!target) throw new Error(`backend "${label}" is not available here; available: ${available.map((t) => t.label).join(", ")}`);
        return target;
      })
    : available;
  const cases = values.models.split(",").map((name) => {
    const found = CASES.find((c) => c.model === name);
    if (!found) throw new Error(`unknown bench model "${name}"; available: ${CASES.map((c) => c.model).join(", ")}`);
    return found;
  });

  for (const c of cases) {
    for (const target of targets) {
      const info = await initBackend(target.device);
      if (values.profile) await printProfile(c, target.label);
      const auto = resolveWorkers("auto", info, adapter);
      const threadCounts = values.workers ? values.workers.split(",").map(Number) : [...new Set([1, auto])];
      for (const workers of threadCounts) {
        const timing = await benchStepper(c, info, resolveWorkers(workers, info, adapter), seconds);
        const imgsPerSec = (c.batch / timing.msPerStep) * 1000;
        const reference = c.model === "reference-cnn" ? PYTORCH_REFERENCE_IMGS_PER_SEC : undefined;
        print(
          JSON.stringify({
            model: c.model,
            backend: target.label,
            workers,
            description: (workers > 1 ? withDataParallelThreads(info, workers) : info).description,
            imgsz: c.imgsz,
            batch: c.batch,
            optimizer: "Adam",
            imgs_per_sec: Math.round(imgsPerSec * 10) / 10,
            step_ms: Math.round(timing.msPerStep * 10) / 10,
            steps: timing.steps,
            ...(reference ? { pytorch_imgs_per_sec: reference, ratio_to_pytorch: Math.round((imgsPerSec / reference) * 1000) / 1000 } : {}),
          }),
        );
      }
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runTrainBench(undefined, process.argv.slice(2)).catch((error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
