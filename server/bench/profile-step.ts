/**
 * Where one training (or inference) step of a zoo model spends its time, kernel by kernel:
 *   npm run bench:profile -- [--model yolov8n] [--imgsz 320] [--batch 4] [--mode train|predict] [--steps 3] [--device wasm]
 * Prints the step's wall and CPU time (fastest and median of --steps unprofiled steps), then one
 * profiled step: peak tensor memory, time per kernel name, and the slowest convolution calls with
 * their shapes. One thread, random weights and images; detection models train on the v8 loss with
 * one box per image, classifiers on cross-entropy.
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initBackend, parseDevice } from "../ml/backend/index";
import { buildDetectModel } from "../ml/detect/adapter";
import { makeAnchors } from "../ml/detect/dfl";
import { detectionLoss } from "../ml/detect/loss";
import { compileGraph } from "../ml/graph/index";
import { classificationLoss } from "../ml/train/classify-loss";
import { findZooModel, zooGraph } from "../ml/zoo/index";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "yolov8n" },
    imgsz: { type: "string", default: "320" },
    batch: { type: "string", default: "4" },
    mode: { type: "string", default: "train" },
    steps: { type: "string", default: "3" },
    device: { type: "string", default: "wasm" },
  },
});
const imgsz = Number(values.imgsz);
const batch = Number(values.batch);
const steps = Number(values.steps);
if (values.mode !== "train" && values.mode !== "predict") throw new Error(`--mode must be train or predict, got "${values.mode}"`);
const zoo = findZooModel(values.model);

const backend = await initBackend(parseDevice(values.device));
const numClasses = zoo.task === "detect" ? 80 : 10;
const classNames = Array.from({ length: numClasses }, (_, i) => `class_${i}`);
const model =
  zoo.task === "detect"
    ? buildDetectModel(zoo.name, imgsz, classNames, 0).model
    : compileGraph(zooGraph(zoo.name, { imgsz, numClasses }), { inputShape: [imgsz, imgsz, 3], seed: 0 });
const x = tf.randomUniform([batch, imgsz, imgsz, 3], 0, 1, "float32", 1);
const labels = Int32Array.from({ length: batch }, (_, i) => i % numClasses);
const boxes = Array.from({ length: batch }, (_, i) => [{ cls: i % numClasses, x: 0.5, y: 0.5, w: 0.2, h: 0.3 }]);
const grid = zoo.task === "detect" ? makeAnchors(imgsz, imgsz) : undefined;

const loss = (out: tf.Tensor) => (grid ? detectionLoss(out, boxes, { numClasses, imgsz, grid }).total : classificationLoss(out, labels, numClasses, 0, false));
function step(): tf.Tensor {
  if (values.mode === "predict") return model.apply(x, { training: false }) as tf.Tensor;
  const { value, grads } = tf.variableGrads(() => loss(model.apply(x, { training: true }) as tf.Tensor));
  tf.dispose(grads);
  return value;
}

tf.dispose(step());
const wall: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < steps; i++) {
  const started = performance.now();
  const usage = process.cpuUsage();
  tf.dispose(step());
  const used = process.cpuUsage(usage);
  wall.push(performance.now() - started);
  cpu.push((used.user + used.system) / 1000);
}
const fastest = (list: number[]) => Math.min(...list);
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const profile = await tf.profile(() => step());
console.log(
  JSON.stringify({
    model: zoo.name,
    imgsz,
    batch,
    mode: values.mode,
    backend: backend.description,
    wall_ms: { fastest: Math.round(fastest(wall)), median: Math.round(median(wall)) },
    cpu_ms: { fastest: Math.round(fastest(cpu)), median: Math.round(median(cpu)) },
    imgs_per_sec: Math.round((batch / median(wall)) * 1000 * 100) / 100,
    peak_tensor_mib: Math.round(profile.peakBytes / 2 ** 20),
  }),
);

const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of profile.kernels) {
  const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  entry.ms += k.kernelTimeMs as number;
  entry.calls++;
  byKernel.set(k.name, entry);
}
console.log("\nkernel                          ms  calls");
for (const [name, { ms, calls }] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
  console.log(`${name.padEnd(28)} ${ms.toFixed(1).padStart(7)} ${String(calls).padStart(6)}`);
}
console.log("\nslowest convolution calls");
const convs = profile.kernels.filter((k) => /Conv2D/.test(k.name)).sort((a, b) => (b.kernelTimeMs as number) - (a.kernelTimeMs as number));
for (const k of convs.slice(0, 15)) {
  console.log(`${k.name.padEnd(22)} ${(k.kernelTimeMs as number).toFixed(1).padStart(7)}  ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}`);
}
