// Training/inference throughput of the reference CNN on each TF.js backend available here, with
// TF.js's own Adam on one thread (kernel comparisons; `npm run bench:train` measures train()'s step).
// Usage: npx tsx server/bench/train-backends.ts [--backends cpu,wasm] [--profile] [--steps N]
// Prints one JSON line per (model, backend); --profile adds the per-kernel time breakdown.
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../ml/backend";
import { registerGradientKernels } from "../ml/backend/kernels";
import { buildReferenceCnn } from "../ml/backend/reference-cnn";

const { values: options } = parseArgs({
  options: {
    backends: { type: "string", default: "cpu,wasm" },
    steps: { type: "string", default: "30" },
    warmup: { type: "string", default: "20" },
    profile: { type: "boolean", default: false },
  },
});

const IMGSZ = 64;
const BATCH = 32;
const CLASSES = 10;
const WARM_SECONDS = 20;
const TIMED_SECONDS = 30;

function randomBatch(seed: number): { x: tf.Tensor4D; y: tf.Tensor2D; labels: Int32Array } {
  return tf.tidy(() => {
    const x = tf.randomUniform([BATCH, IMGSZ, IMGSZ, 3], 0, 1, "float32", seed) as tf.Tensor4D;
    const labels = Int32Array.from({ length: BATCH }, (_, i) => (i * 7 + seed) % CLASSES);
    const y = tf.oneHot(tf.tensor1d(labels, "int32"), CLASSES).toFloat() as tf.Tensor2D;
    return { x, y, labels };
  });
}

/** Runs `step` for up to `maxSteps` or `seconds`, whichever ends first; returns ms per step. */
function timeSteps(step: () => void, maxSteps: number, seconds: number): { steps: number; msPerStep: number } {
  const start = performance.now();
  let steps = 0;
  while (steps < maxSteps && (steps < 2 || performance.now() - start < seconds * 1000)) {
    step();
    steps++;
  }
  return { steps, msPerStep: (performance.now() - start) / steps };
}

function report(backend: string, mode: "train" | "infer", msPerStep: number, steps: number): void {
  console.log(
    JSON.stringify({
      model: "reference-cnn",
      backend,
      mode,
      imgsz: IMGSZ,
      batch: BATCH,
      imgs_per_sec: Math.round((BATCH / msPerStep) * 1000 * 10) / 10,
      step_ms: Math.round(msPerStep * 10) / 10,
      steps,
    }),
  );
}

async function printProfile(label: string, run: () => void): Promise<void> {
  const info = await tf.profile(run);
  const byKernel = new Map<string, number>();
  for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  const rows = [...byKernel.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.error(`profile ${label}: ${total.toFixed(1)} ms in kernels`);
  for (const [name, ms] of rows) console.error(`  ${name.padEnd(28)} ${ms.toFixed(2).padStart(9)} ms  ${((ms / total) * 100).toFixed(1)}%`);
}

async function benchSingle(backend: "cpu" | "wasm"): Promise<void> {
  if (backend === "wasm") await initBackend("wasm");
  else {
    registerGradientKernels();
    await tf.setBackend("cpu");
  }
  const model = buildReferenceCnn({ imgsz: IMGSZ, numClasses: CLASSES, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const { x, y } = randomBatch(1);
  const step = () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), true);
    loss?.dataSync();
    loss?.dispose();
  };
  // The CPU backend is ~100× slower: fewer steps keep the run short.
  const slow = backend === "cpu";
  timeSteps(step, slow ? 2 : Number(options.warmup), WARM_SECONDS);
  const trained = timeSteps(step, slow ? 3 : Number(options.steps), TIMED_SECONDS);
  report(backend, "train", trained.msPerStep, trained.steps);
  if (options.profile) await printProfile(`${backend} train step`, step);

  const infer = () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  timeSteps(infer, 5, WARM_SECONDS);
  const inferred = timeSteps(infer, slow ? 5 : 50, TIMED_SECONDS);
  report(backend, "infer", inferred.msPerStep, inferred.steps);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
}

for (const backend of options.backends.split(",").map((b) => b.trim())) {
  if (backend === "cpu" || backend === "wasm") await benchSingle(backend);
  else throw new Error(`unknown backend "${backend}" (use cpu, wasm)`);
}
