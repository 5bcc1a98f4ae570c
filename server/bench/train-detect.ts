/**
 * YOLOv8 detection throughput, one JSON line per (model, imgsz, backend, mode):
 *   mode "train": the loop's stepper (forward, v8 detection loss with the assigner, gradients, clipping, AdamW), with
 *     the threads and micro-batches the loop would pick ("workers" and "micro_batch" in the line; --workers overrides);
 *     on ort (ONNX Runtime training graphs; ort:cuda:N on a GPU host with the CUDA provider) also the share of the step
 *     inside session.run and in JavaScript (the assigner, feeds, accumulation, optimizer);
 *   mode "predict": forward + decode + NMS on each TF.js backend, and through ONNX Runtime on the exported model.
 *   npm run bench:train  (or: tsx server/bench/train-detect.ts [--imgsz 320,640] [--batch 8] [--workers auto] [--backends wasm,ort,onnxruntime] [--seconds 20])
 * Random weights and images, 80 classes (COCO) and 3 ground-truth boxes per image. Slow on CPU: every timing
 * runs one warm-up step, then steps until --seconds have passed (at least 1, at most 5 timed steps).
 * Each case runs in its own process: a WebAssembly backend that runs out of memory aborts for good, and
 * must not take the other cases with it.
 */
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import type { Box } from "../ml/augment/geometry";
import { availableDevices, initBackend, type BackendInfo, type Device } from "../ml/backend/index";
import type { DetectBatch } from "../ml/data/detect-loader";
import { buildDetectModel } from "../ml/detect/adapter";
import { makeAnchors } from "../ml/detect/dfl";
import { nonMaxSuppression } from "../ml/detect/nms";
import { exportDetectionOnnx } from "../ml/detect/onnx-decode";
import { detectionsFromRaw } from "../ml/detect/predict";
import { detectStepAdapter } from "../ml/detect/replica";
import { loadOnnxSession } from "../ml/onnx/runtime";
import { createTrainStepper, resolveMicroBatch, resolveWorkers } from "../ml/train/stepper";
import { TrainOptimizer, type TrainableVariable } from "../ml/train/optimizers";

const MODEL = "yolov8n";
const DEFAULT_BATCH = 8;
const CLASS_NAMES = Array.from({ length: 80 }, (_, i) => `class_${i}`);
const ONNX_RUNTIME = "onnxruntime";

interface Timing {
  steps: number;
  msPerStep: number;
}

/** One warm-up step, then timed steps until `seconds` have passed (1 to 5 of them). */
async function timeSteps(step: () => Promise<void>, seconds: number): Promise<Timing> {
  await step();
  const start = performance.now();
  let steps = 0;
  while (steps < 1 || (steps < 5 && performance.now() - start < seconds * 1000)) {
    await step();
    steps++;
  }
  return { steps, msPerStep: (performance.now() - start) / steps };
}

function randomImages(imgsz: number, batch: number): Float32Array {
  return tf.tidy(() => tf.randomUniform([batch, imgsz, imgsz, 3], 0, 1, "float32", 7).dataSync() as Float32Array);
}

function randomBoxes(batch: number): Box[][] {
  return Array.from({ length: batch }, (_, i) =>
    Array.from({ length: 3 }, (_, k) => ({ cls: (i * 3 + k) % CLASS_NAMES.length, x: 0.25 + 0.25 * k, y: 0.3 + 0.05 * (i % 8), w: 0.2, h: 0.15 + 0.05 * k })),
  );
}

export interface TrainTiming extends Timing {
  workers: number;
  microBatch: number;
  /** ort: milliseconds per step inside session.run and in the rest of the step. */
  runMs?: number;
  jsMs?: number;
}

/** The loop's stepper with its "auto" choices: threads per core on WASM, micro-batches where the heap needs them. */
export async function benchTrain(imgsz: number, batch: number, seconds: number, backend: BackendInfo, workersSetting: "auto" | number): Promise<TrainTiming> {
  const { model, graph } = buildDetectModel(MODEL, imgsz, CLASS_NAMES, 0);
  const trainable: TrainableVariable[] = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  const optimizer = new TrainOptimizer({ name: "AdamW", momentum: 0.9, nesterov: false, weightDecay: 0.0005 });
  const images: DetectBatch = { x: randomImages(imgsz, batch), boxes: randomBoxes(batch), paths: [], size: batch, imgsz };
  const adapter = detectStepAdapter({ numClasses: CLASS_NAMES.length, imgsz });
  const workers = resolveWorkers(workersSetting, backend, adapter);
  const microBatch = resolveMicroBatch("auto", batch, backend, model, adapter);
  const stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: 10, workers, microBatch, backend, graph, inputShape: [imgsz, imgsz, 3] });
  try {
    // ort's first step builds its sessions (and times formulations): outside the timing, like TF.js's warm-up step.
    if (stepper.timings) await stepper.step(images, 1e-3);
    const before = stepper.timings?.();
    const timing = await timeSteps(async () => void (await stepper.step(images, 1e-3)), seconds);
    const after = stepper.timings?.();
    if (!before || !after) return { ...timing, workers, microBatch };
    const steps = after.steps - before.steps;
    return { ...timing, workers, microBatch, runMs: (after.runMs - before.runMs) / steps, jsMs: (after.jsMs - before.jsMs) / steps };
  } finally {
    await stepper.close();
    optimizer.dispose();
    model.dispose();
  }
}

async function benchPredict(imgsz: number, batch: number, seconds: number): Promise<Timing> {
  const { model } = buildDetectModel(MODEL, imgsz, CLASS_NAMES, 0);
  const x = randomImages(imgsz, batch);
  const grid = makeAnchors(imgsz, imgsz);
  try {
    return await timeSteps(async () => {
      const output = tf.tidy(() => model.predict(tf.tensor4d(x, [batch, imgsz, imgsz, 3])) as tf.Tensor);
      const raw = (await output.data()) as Float32Array;
      output.dispose();
      detectionsFromRaw(raw, { batch, numClasses: CLASS_NAMES.length, imgsz, grid });
    }, seconds);
  } finally {
    model.dispose();
  }
}

/** The model exported like `studio export format=onnx`, run by ONNX Runtime (CPU), with the same NMS. */
async function benchOnnx(imgsz: number, batch: number, seconds: number): Promise<Timing> {
  const { model, graph } = buildDetectModel(MODEL, imgsz, CLASS_NAMES, 0);
  let bytes: Uint8Array;
  try {
    bytes = await exportDetectionOnnx(model, graph, { classNames: CLASS_NAMES, imgsz, dynamicBatch: true });
  } finally {
    model.dispose();
  }
  const session = await loadOnnxSession(bytes);
  const nchw = tf.tidy(() => tf.randomUniform([batch, 3, imgsz, imgsz], 0, 1, "float32", 7).dataSync() as Float32Array);
  try {
    return await timeSteps(async () => {
      const [output] = await session.run(nchw, [batch, 3, imgsz, imgsz]);
      nonMaxSuppression(output.data, { batch, numClasses: output.dims[1] - 4, anchors: output.dims[2] });
    }, seconds);
  } finally {
    await session.release();
  }
}

/** One target per distinct engine ("auto" and "cpu" often resolve to the same backend as "wasm"). */
async function engineTargets(): Promise<{ label: string; device: Device }[]> {
  const targets: { label: string; device: Device }[] = [];
  for (const { device, backend } of await availableDevices()) {
    // ONNX Runtime's devices (ort, ort:cuda:N) are targets of their own.
    const label = backend === "ort" ? device : backend;
    if (device !== "auto" && !targets.some((t) => t.label === label)) targets.push({ label, device });
  }
  return targets;
}

interface BenchTarget {
  label: string;
  device: Device;
}

interface BenchCase {
  imgsz: number;
  batch: number;
  target: BenchTarget;
  mode: "train" | "predict";
}

/** Times one case in this process and returns its JSON line. */
async function runCase({ imgsz, batch, target, mode }: BenchCase, seconds: number, workers: "auto" | number): Promise<Record<string, unknown>> {
  const onnx = target.label === ONNX_RUNTIME;
  // The ONNX case builds the TF.js model to export on the "cpu" device first.
  const info = await initBackend(target.device);
  const description = onnx ? "onnxruntime-node (CPU execution provider)" : info.description;
  const trainTiming = !onnx && mode === "train" ? await benchTrain(imgsz, batch, seconds, info, workers) : undefined;
  const timing = trainTiming ?? (onnx ? await benchOnnx(imgsz, batch, seconds) : await benchPredict(imgsz, batch, seconds));
  const imgsPerSec = (batch / timing.msPerStep) * 1000;
  const threads = trainTiming ? { workers: trainTiming.workers, micro_batch: trainTiming.microBatch } : {};
  const split =
    trainTiming?.runMs !== undefined && trainTiming.jsMs !== undefined
      ? {
          session_run_ms: Math.round(trainTiming.runMs),
          js_ms: Math.round(trainTiming.jsMs),
          session_run_share: Math.round((trainTiming.runMs / (trainTiming.runMs + trainTiming.jsMs)) * 1000) / 1000,
          js_share: Math.round((trainTiming.jsMs / (trainTiming.runMs + trainTiming.jsMs)) * 1000) / 1000,
        }
      : {};
  return { model: MODEL, imgsz, batch, backend: target.label, mode, description, ...threads, imgs_per_sec: Math.round(imgsPerSec * 100) / 100, step_ms: Math.round(timing.msPerStep), ...split, steps: timing.steps };
}

/** Runs one case in a child process (this script with --case); a crash becomes an `error` line. */
async function runIsolated(c: BenchCase, seconds: number, workers: string): Promise<Record<string, unknown>> {
  const args = ["--import", "tsx", fileURLToPath(import.meta.url), "--case", `${c.imgsz}:${c.target.label}:${c.mode}`, "--batch", String(c.batch), "--seconds", String(seconds), "--workers", workers];
  const base = { model: MODEL, imgsz: c.imgsz, batch: c.batch, backend: c.target.label, mode: c.mode };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
    const line = stdout.trim().split("\n").findLast((l) => l.startsWith("{"));
    if (!line) return { ...base, error: "the benchmark process printed no result" };
    return JSON.parse(line) as Record<string, unknown>;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    const reason = stderr.split("\n").at(-1) || (error instanceof Error ? error.message : String(error));
    // The WebAssembly backend aborts when its heap is full (yolov8n training at 640, batch 8, here).
    const hint = /Aborted\(\)/.test(stderr) ? " (the WebAssembly backend aborted, most likely out of memory)" : "";
    return { ...base, error: reason + hint };
  }
}

export async function runDetectBench(print: (line: string) => void = (line) => console.log(line), argv: string[] = []): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      imgsz: { type: "string", default: "320,640" },
      backends: { type: "string" },
      seconds: { type: "string", default: "20" },
      batch: { type: "string", default: String(DEFAULT_BATCH) },
      /** Training threads: "auto" (what the loop picks) or a count. */
      workers: { type: "string", default: "auto" },
      /** Internal: imgsz:backend:mode, the one case a child process runs. */
      case: { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer, got "${values.batch}"`);
  const workers = values.workers === "auto" ? "auto" : Number(values.workers);
  if (workers !== "auto" && (!Number.isInteger(workers) || workers < 1)) throw new Error(`--workers must be "auto" or a positive integer, got "${values.workers}"`);
  const available: BenchTarget[] = [...(await engineTargets()), { label: ONNX_RUNTIME, device: "cpu" }];
  const targetOf = (label: string) => {
    // ort:cuda:N is not listed where the CUDA provider is missing; the case then says what to install.
    if (/^ort:cuda:\d+$/.test(label)) return { label, device: label as Device };
    const target = available.find((t) => t.label === label);
    if (!target) throw new Error(`backend "${label}" is not available here; available: ${available.map((t) => t.label).join(", ")}`);
    return target;
  };
  if (values.case) {
    const [imgsz, label, mode] = values.case.split(":");
    print(JSON.stringify(await runCase({ imgsz: Number(imgsz), batch, target: targetOf(label), mode: mode === "train" ? "train" : "predict" }, seconds, workers)));
    return;
  }
  const sizes = values.imgsz.split(",").map(Number);
  for (const imgsz of sizes) {
    if (!Number.isInteger(imgsz) || imgsz < 32 || imgsz % 32 !== 0) throw new Error(`--imgsz values must be multiples of 32, got "${values.imgsz}"`);
  }
  const targets = values.backends ? values.backends.split(",").map(targetOf) : available;
  for (const imgsz of sizes) {
    for (const target of targets) {
      // ort's predict would be its TF.js companion's: ONNX Runtime's inference is the "onnxruntime" line.
      const modes = target.label === ONNX_RUNTIME ? (["predict"] as const) : target.label.startsWith("ort") ? (["train"] as const) : (["train", "predict"] as const);
      for (const mode of modes) print(JSON.stringify(await runIsolated({ imgsz, batch, target, mode }, seconds, values.workers)));
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runDetectBench(undefined, process.argv.slice(2)).catch((error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
