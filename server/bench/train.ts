/**
 * Training throughput of the engine's own step (train/loop.ts trainStep: forward, loss, gradients,
 * clipping, our Adam) per (model, backend), on random data. One JSON line each.
 *   npm run bench:train -- [--models reference-cnn,resnet18,mobilenet_v2] [--backends wasm,wasm-parallel] [--seconds 10]
 * Backends are those initBackend can select here (by their engine name), plus wasm-parallel.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { availableDevices, initBackend, type Device } from "../ml/backend/index";
import { createParallelStepper } from "../ml/backend/parallel";
import { compileGraph } from "../ml/graph/index";
import { zooGraph } from "../ml/zoo/index";
import { classificationLoss } from "../ml/train/classify";
import { trainStep } from "../ml/train/loop";
import { TrainOptimizer, type TrainableVariable } from "../ml/train/optimizers";

/** PyTorch 1.13, 2 CPU threads, reference CNN 64×64 batch 32 Adam (MEASUREMENTS.md). */
const PYTORCH_REFERENCE_IMGS_PER_SEC = 964;
const NUM_CLASSES = 10;

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

/** A device to train on, or "wasm-parallel": PERF's data-parallel stepper (one WASM replica per core). */
interface BenchTarget {
  label: string;
  device: Device;
  parallel: boolean;
}

/** One target per distinct engine: devices "auto" and "cpu" often resolve to the same backend as "wasm". */
async function benchTargets(): Promise<BenchTarget[]> {
  const targets: BenchTarget[] = [];
  for (const { device, backend } of await availableDevices()) {
    if (device === "auto" || targets.some((t) => t.label === backend)) continue;
    targets.push({ label: backend, device, parallel: false });
    if (backend === "wasm") targets.push({ label: "wasm-parallel", device, parallel: true });
  }
  return targets;
}

function randomBatch(c: BenchCase): { x: Float32Array; y: Int32Array } {
  const x = tf.tidy(() => tf.randomUniform([c.batch, c.imgsz, c.imgsz, 3], 0, 1, "float32", 7).dataSync() as Float32Array);
  const y = Int32Array.from({ length: c.batch }, (_, i) => (i * 7) % NUM_CLASSES);
  return { x, y };
}

/** Runs one warm-up step, then steps until `seconds` have passed (at least 2, at most 50). */
async function timeSteps(step: () => Promise<void>, seconds: number): Promise<{ steps: number; msPerStep: number }> {
  await step();
  const start = performance.now();
  let steps = 0;
  while (steps < 2 || (steps < 50 && performance.now() - start < seconds * 1000)) {
    await step();
    steps++;
  }
  return { steps, msPerStep: (performance.now() - start) / steps };
}

function buildModel(c: BenchCase): tf.LayersModel {
  return compileGraph(zooGraph(c.model, { imgsz: c.imgsz, numClasses: NUM_CLASSES }), { inputShape: [c.imgsz, c.imgsz, 3], seed: 0 });
}

async function benchSingleBackend(c: BenchCase, seconds: number): Promise<{ steps: number; msPerStep: number }> {
  const model = buildModel(c);
  const trainable: TrainableVariable[] = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  const optimizer = new TrainOptimizer({ name: "Adam", momentum: 0.9, nesterov: false, weightDecay: 0 });
  const { x, y } = randomBatch(c);
  const batch = { x, y, size: c.batch };
  const adapter = {
    inputs: () => tf.tensor4d(x, [c.batch, c.imgsz, c.imgsz, 3]),
    loss: (outputs: tf.Tensor | tf.Tensor[]) => classificationLoss(outputs as tf.Tensor, y, NUM_CLASSES, 0, false),
  };
  try {
    return await timeSteps(async () => {
      const values = trainStep(model, adapter, optimizer, trainable, batch, 1e-3, 10);
      await values.loss.data();
      tf.dispose(Object.values(values));
    }, seconds);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

async function benchParallel(c: BenchCase, seconds: number): Promise<{ steps: number; msPerStep: number; description: string }> {
  const model = buildModel(c);
  const graphModule = pathToFileURL(path.resolve(import.meta.dirname, "../ml/graph/index.ts")).href;
  const stepper = await createParallelStepper({ model, numClasses: NUM_CLASSES, optimizer: { name: "adam", learningRate: 1e-3 }, setupModules: [graphModule] });
  const { x, y } = randomBatch(c);
  try {
    const timing = await timeSteps(async () => {
      await stepper.step(x, y);
    }, seconds);
    return { ...timing, description: stepper.description };
  } finally {
    await stepper.close();
    model.dispose();
  }
}

export async function runTrainBench(print: (line: string) => void = (line) => console.log(line), argv: string[] = []): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: "string", default: CASES.map((c) => c.model).join(",") },
      backends: { type: "string" },
      seconds: { type: "string", default: "10" },
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
      const timing = target.parallel ? await benchParallel(c, seconds) : { ...(await benchSingleBackend(c, seconds)), description: info.description };
      const imgsPerSec = (c.batch / timing.msPerStep) * 1000;
      const reference = c.model === "reference-cnn" ? PYTORCH_REFERENCE_IMGS_PER_SEC : undefined;
      print(
        JSON.stringify({
          model: c.model,
          backend: target.label,
          description: timing.description,
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

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runTrainBench(undefined, process.argv.slice(2)).catch((error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
