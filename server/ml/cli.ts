/**
 * The studio's command line, with Ultralytics-style key=value arguments:
 *   npm run studio -- train data=DIR model=resnet18 epochs=10 imgsz=64 batch=32 device=auto
 *   npm run studio -- train data=path/to/data.yaml model=yolov8n imgsz=320   (task from the model or the data)
 *   npm run studio -- val model=runs/classify/exp/weights/best data=DIR
 *   npm run studio -- export model=… format=onnx opset=17 half=false int8=false dynamic=true
 *   npm run studio -- predict model=…(checkpoint, run folder or detection .onnx) source=image-or-folder
 *   npm run studio -- bench
 * `--json` prints one JSON object per line (training events, results) instead of text.
 */
import { readFile, readdir, stat, mkdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend, parseDevice } from "./backend/index";
import { readImageFolder, isImageFile } from "./data/imagefolder";
import { decodeImage, decodeImageResized } from "./data/image";
import { createClassifyLoader } from "./data/loader";
import { createDetectLoader } from "./data/detect-loader";
import { detectFormat, readDetectDataset } from "./data/detect-format";
import { isYamlPath } from "./data/yolo";
import { evaluateDetector } from "./detect/adapter";
import { annotatedFileName, saveAnnotatedImage } from "./detect/annotate";
import { onnxDetector, tfjsDetector, type Detector } from "./detect/predictor";
import type { ModelGraph } from "./graph/index";
import { exportOnnx } from "./export/onnx";
import { exportDetectionOnnx } from "./detect/onnx-decode";
import { trainConfigSchema, type TrainConfigInput } from "./train/config";
import { disposeContents, loadCheckpointModel, readCheckpoint, resolveCheckpointPath, writeFileAtomic, CHECKPOINT_EXTENSION, type CheckpointHeader } from "./train/checkpoint";
import { evaluateClassifier, outputsProbabilities } from "./train/classify";
import { train, type TrainEvent } from "./train/loop";
import { zooModels } from "./zoo/index";

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

export const commands = ["train", "val", "export", "predict", "bench"] as const;
export type Command = (typeof commands)[number];

/** Keys each command accepts; train takes every training setting. */
const trainKeys = Object.keys(trainConfigSchema.shape);
const commandKeys: Record<Command, string[]> = {
  train: trainKeys,
  val: ["model", "data", "batch", "device", "split", "conf", "iou"],
  export: ["model", "format", "opset", "half", "int8", "dynamic", "output"],
  predict: ["model", "source", "device", "top", "conf", "iou", "max_det", "agnostic", "runsDir", "project", "name"],
  bench: [],
};

/** Values that stay strings even when they look like numbers or booleans. */
const stringKeys = new Set(["data", "model", "project", "name", "runsDir", "pretrained", "device", "source", "format", "output", "split", "augment"]);

export const exportFormats = ["onnx", "tfjs"] as const;

export interface CliArgs {
  command: Command;
  args: Record<string, string | number | boolean>;
  json: boolean;
}

function coerce(key: string, value: string): string | number | boolean {
  if (stringKeys.has(key)) return value;
  if (value === "true" || value === "True") return true;
  if (value === "false" || value === "False") return false;
  if (value !== "" && Number.isFinite(Number(value))) return Number(value);
  return value;
}

export function parseCliArgs(argv: string[]): CliArgs {
  const json = argv.includes("--json");
  const rest = argv.filter((a) => a !== "--json");
  const [command, ...pairs] = rest;
  if (!command || !(commands as readonly string[]).includes(command)) {
    throw new CliError(`${command ? `unknown command "${command}"` : "missing command"}; commands: ${commands.join(", ")}`);
  }
  const valid = commandKeys[command as Command];
  const args: CliArgs["args"] = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`argument "${pair}" is not key=value; valid keys for ${command}: ${valid.join(", ") || "(none)"}`);
    const key = pair.slice(0, eq);
    if (!valid.includes(key)) throw new CliError(`unknown key "${key}" for ${command}; valid keys: ${valid.join(", ") || "(none)"}`);
    args[key] = coerce(key, pair.slice(eq + 1));
  }
  return { command: command as Command, args, json };
}

function requireArg(args: CliArgs["args"], key: string, command: Command): string {
  const value = args[key];
  if (value === undefined || value === "") throw new CliError(`${command} needs ${key}=…`);
  return String(value);
}

/** Turns CLI arguments into a training config input: files for graphs/augmentations, resume=<run folder>. */
export async function trainInputFromArgs(args: CliArgs["args"]): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = { ...args };
  const model = args.model;
  if (typeof model === "string" && model.endsWith(".json")) input.model = JSON.parse(await readFile(model, "utf8"));
  if (typeof args.augment === "string") input.augment = JSON.parse(await readFile(args.augment, "utf8"));
  if (typeof args.resume === "string") {
    const runDir = path.resolve(args.resume);
    Object.assign(input, { resume: true, name: path.basename(runDir), project: path.basename(path.dirname(runDir)), runsDir: path.dirname(path.dirname(runDir)) });
  } else if (args.task === undefined) {
    const task = await inferTask(input.model, args.data);
    if (task) input.task = task;
  }
  return input;
}

/**
 * Like Ultralytics, the task follows from the model: a zoo model's task, a graph with or without a Detect
 * node; otherwise from the data (a data.yaml or a detection layout means detect). Undefined when unknown.
 */
export async function inferTask(model: unknown, data: unknown): Promise<"classify" | "detect" | undefined> {
  if (typeof model === "string") {
    const zoo = zooModels.find((m) => m.name === model);
    if (zoo) return zoo.task;
  } else if (model && typeof model === "object" && Array.isArray((model as ModelGraph).nodes)) {
    return (model as ModelGraph).nodes.some((node) => node.type === "Detect") ? "detect" : "classify";
  }
  if (typeof data !== "string") return undefined;
  if (isYamlPath(data)) return "detect";
  return detectFormat(data).then(
    (found) => found.task,
    () => undefined,
  );
}

type Print = (text: string) => void;

function progressBar(done: number, total: number, width = 24): string {
  const filled = Math.round((done / Math.max(total, 1)) * width);
  return `[${"=".repeat(Math.max(filled - 1, 0))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
}

function textReporter(out: NodeJS.WriteStream): (event: TrainEvent) => void {
  const tty = out.isTTY;
  return (event) => {
    switch (event.type) {
      case "start":
        out.write(`${event.resumed ? "Resuming" : "Training"} ${event.task} in ${event.runDir} on ${event.backend.description}\n`);
        out.write(`${event.trainImages} train / ${event.valImages} val images, ${event.classNames.length} classes, ${event.params.toLocaleString("en")} parameters\n`);
        break;
      case "step":
        if (tty) {
          out.write(`\rEpoch ${event.epoch}/${event.epochs} ${progressBar(event.step, event.steps)} ${event.step}/${event.steps} loss ${event.loss.toFixed(4)} lr ${event.lr.toPrecision(3)} ${event.imgsPerSec.toFixed(1)} img/s`);
        }
        break;
      case "epoch_end": {
        const m = event.metrics;
        const parts = Object.entries(m)
          .filter(([key]) => !["epoch_seconds"].includes(key))
          .map(([key, value]) => `${key} ${Number.isInteger(value) ? value : value.toFixed(4)}`);
        out.write(`${tty ? "\r\x1b[K" : ""}Epoch ${event.epoch}/${event.epochs} ${event.seconds.toFixed(1)}s ${parts.join(" ")}${event.isBest ? " *" : ""}\n`);
        break;
      }
      case "log":
        if (event.level !== "info" || event.stage === "start" || event.stage === "completed" || event.stage === "stopped") out.write(`${event.level === "info" ? "" : `${event.level}: `}${event.message}\n`);
        break;
      default:
        break;
    }
  };
}

async function runTrain(args: CliArgs["args"], json: boolean, print: Print): Promise<void> {
  let request: "continue" | "stop" = "continue";
  const onSignal = () => {
    request = "stop";
  };
  process.once("SIGINT", onSignal);
  try {
    const report = json ? (event: TrainEvent) => print(JSON.stringify(event)) : textReporter(process.stdout);
    const result = await train((await trainInputFromArgs(args)) as TrainConfigInput, { onEvent: report, control: () => request });
    print(json ? JSON.stringify({ type: "result", ...result }) : `${result.status}: ${result.runDir} (best epoch ${result.bestEpoch})`);
  } finally {
    process.off("SIGINT", onSignal);
  }
}

async function loadModelArg(args: CliArgs["args"], command: Command) {
  const file = await resolveCheckpointPath(requireArg(args, "model", command));
  const contents = await readCheckpoint(file);
  try {
    return { file, header: contents.header, model: await loadCheckpointModel(contents) };
  } finally {
    disposeContents(contents);
  }
}

async function runVal(args: CliArgs["args"], json: boolean, print: Print): Promise<void> {
  await initBackend(parseDevice(String(args.device ?? "auto")));
  const { header, model } = await loadModelArg(args, "val");
  if (header.task === "detect") return runDetectVal(header, model, args, json, print);
  const index = await readImageFolder(requireArg(args, "data", "val"), { seed: 0 });
  if (index.classes.join("\u0000") !== header.classNames.join("\u0000")) {
    throw new CliError(`dataset classes [${index.classes.join(", ")}] differ from the model's classes [${header.classNames.join(", ")}]`);
  }
  const split = String(args.split ?? "val");
  const items = index.items.filter((item) => item.split === split);
  if (items.length === 0) throw new CliError(`dataset ${index.root} has no ${split} images`);
  const imgsz = header.inputShape[0];
  const loader = createClassifyLoader(items, { imgsz, batch: Number(args.batch ?? 32), shuffle: false, seed: 0 });
  try {
    const { metrics, details } = await evaluateClassifier(model, loader, header.classNames);
    if (json) print(JSON.stringify({ type: "validation", split, metrics, details }));
    else for (const [key, value] of Object.entries(metrics)) print(`${key}: ${value.toFixed(4)}`);
  } finally {
    await loader.close();
    model.dispose();
  }
}

/** Detection val: the checkpoint's dataset unless data= is given; prints Ultralytics' per-class table. */
async function runDetectVal(header: CheckpointHeader, model: tf.LayersModel, args: CliArgs["args"], json: boolean, print: Print): Promise<void> {
  try {
    const data = args.data ?? header.config.data;
    if (typeof data !== "string" || data === "") throw new CliError("val needs data=… (the checkpoint does not name its dataset)");
    // The training seed reproduces the training run's split of datasets that have none.
    const index = await readDetectDataset(data, { seed: Number(header.config.seed ?? 0) });
    if (index.classes.join("\u0000") !== header.classNames.join("\u0000")) {
      throw new CliError(`dataset classes [${index.classes.join(", ")}] differ from the model's classes [${header.classNames.join(", ")}]`);
    }
    const split = String(args.split ?? "val");
    const items = index.items.filter((item) => item.split === split);
    if (items.length === 0) throw new CliError(`dataset ${index.root} has no ${split} images`);
    const loader = createDetectLoader(items, { imgsz: header.inputShape[0], batch: Number(args.batch ?? 16), shuffle: false, seed: 0 });
    try {
      const nms = { conf: args.conf === undefined ? undefined : Number(args.conf), iou: args.iou === undefined ? undefined : Number(args.iou) };
      const { metrics, details, summary } = await evaluateDetector(model, loader, header.classNames, nms);
      if (json) {
        print(JSON.stringify({ type: "validation", split, metrics, details }));
        return;
      }
      for (const line of summary ?? []) print(line);
    } finally {
      await loader.close();
    }
  } finally {
    model.dispose();
  }
}

async function runExport(args: CliArgs["args"], json: boolean, print: Print): Promise<void> {
  const format = String(args.format ?? "onnx");
  if (!(exportFormats as readonly string[]).includes(format)) {
    throw new CliError(`export format "${format}" is not supported; supported formats: ${exportFormats.join(", ")}`);
  }
  await initBackend("cpu");
  const { file, header, model } = await loadModelArg(args, "export");
  const base = file.endsWith(CHECKPOINT_EXTENSION) ? file.slice(0, -CHECKPOINT_EXTENSION.length) : file;
  try {
    let output: string;
    if (format === "onnx") {
      if (!header.graph) throw new CliError(`${file} has no model graph; ONNX export needs a model built from a graph`);
      const options = {
        opset: args.opset === undefined ? undefined : Number(args.opset),
        dynamicBatch: args.dynamic === undefined ? true : Boolean(args.dynamic),
        half: Boolean(args.half ?? false),
        int8: Boolean(args.int8 ?? false),
        classNames: header.classNames,
        imgsz: header.inputShape[0],
      };
      // Detection models get the decode (DFL, anchors, sigmoid) appended, like Ultralytics' export.
      const bytes =
        header.task === "detect"
          ? await exportDetectionOnnx(model, header.graph, options)
          : await exportOnnx(model, header.graph, { ...options, task: header.task });
      output = String(args.output ?? `${base}.onnx`);
      await writeFileAtomic(output, [bytes]);
    } else {
      output = String(args.output ?? `${base}_web_model`);
      await saveTfjsModel(model, output, { names: header.classNames, task: header.task, imgsz: header.inputShape[0] });
    }
    print(json ? JSON.stringify({ type: "export", format, output }) : `exported ${format}: ${output}`);
  } finally {
    model.dispose();
  }
}

/** TF.js layers format (model.json + weights.bin), the layout tf.loadLayersModel reads. */
async function saveTfjsModel(model: tf.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array();
      const modelJson = {
        format: "layers-model",
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: metadata,
      };
      await writeFileAtomic(path.join(dir, "weights.bin"), [weights]);
      await writeFileAtomic(path.join(dir, "model.json"), [Buffer.from(JSON.stringify(modelJson))]);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.byteLength } };
    }),
  );
}

async function listImages(source: string): Promise<string[]> {
  const info = await stat(source).catch(() => null);
  if (!info) throw new CliError(`source not found: ${source}`);
  if (info.isFile()) return [source];
  const entries = await readdir(source, { withFileTypes: true, recursive: true });
  const files = entries.filter((e) => e.isFile() && isImageFile(e.name)).map((e) => path.join(e.parentPath, e.name)).sort();
  if (files.length === 0) throw new CliError(`no images in ${source}`);
  return files;
}

async function runPredict(args: CliArgs["args"], json: boolean, print: Print): Promise<void> {
  const modelArg = requireArg(args, "model", "predict");
  if (modelArg.toLowerCase().endsWith(".onnx")) return runDetectPredict(await onnxDetector(modelArg), args, json, print);
  await initBackend(parseDevice(String(args.device ?? "auto")));
  const { header, model } = await loadModelArg(args, "predict");
  if (header.task === "detect") return runDetectPredict(tfjsDetector(model, header.classNames, header.inputShape[0]), args, json, print);
  const [height, width] = header.inputShape;
  const top = Math.min(Number(args.top ?? 5), header.classNames.length);
  const probabilities = outputsProbabilities(model);
  try {
    for (const file of await listImages(requireArg(args, "source", "predict"))) {
      const img = await decodeImageResized(file, width, height);
      const scores = tf.tidy(() => {
        const x = tf.tensor4d(Float32Array.from(img.data, (v) => v / 255), [1, height, width, 3]);
        const out = model.predict(x) as tf.Tensor;
        return probabilities ? out : tf.softmax(out);
      });
      const probs = Array.from(await scores.data());
      scores.dispose();
      const ranked = probs.map((p, i) => ({ class: header.classNames[i], probability: p })).sort((a, b) => b.probability - a.probability).slice(0, top);
      print(json ? JSON.stringify({ type: "prediction", source: file, top: ranked }) : `${file}: ${ranked.map((r) => `${r.class} ${r.probability.toFixed(3)}`).join(", ")}`);
    }
  } finally {
    model.dispose();
  }
}

/** runs/<project>/<name>, else <name>2, <name>3 … like Ultralytics' predict folders. */
async function createPredictFolder(runsDir: string, project: string, name: string): Promise<string> {
  await mkdir(path.join(runsDir, project), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const dir = path.join(runsDir, project, attempt === 1 ? name : `${name}${attempt}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** Detects objects in every source image, saving an annotated copy of each into a new predict folder. */
async function runDetectPredict(detector: Detector, args: CliArgs["args"], json: boolean, print: Print): Promise<void> {
  try {
    const sources = await listImages(requireArg(args, "source", "predict"));
    const dir = await createPredictFolder(String(args.runsDir ?? "runs"), String(args.project ?? "detect"), String(args.name ?? "predict"));
    const nms = {
      conf: args.conf === undefined ? undefined : Number(args.conf),
      iou: args.iou === undefined ? undefined : Number(args.iou),
      maxDet: args.max_det === undefined ? undefined : Number(args.max_det),
      agnostic: Boolean(args.agnostic ?? false),
    };
    const names = detector.classNames;
    for (const [i, file] of sources.entries()) {
      const started = performance.now();
      const img = await decodeImage(file);
      const detections = await detector.detect(img, nms);
      const ms = performance.now() - started;
      const saved = annotatedFileName(dir, file);
      await saveAnnotatedImage(img, detections, names, saved);
      const rows = detections.map((d) => ({ class: names[d.cls], cls: d.cls, confidence: d.score, box: d.box.map((v) => Math.round(v * 10) / 10) }));
      if (json) {
        print(JSON.stringify({ type: "prediction", source: file, saved, width: img.width, height: img.height, detections: rows }));
        continue;
      }
      const counts = new Map<string, number>();
      for (const row of rows) counts.set(row.class, (counts.get(row.class) ?? 0) + 1);
      const summary = [...counts].map(([name, count]) => `${count} ${name}`).join(", ") || "(no detections)";
      print(`image ${i + 1}/${sources.length} ${file}: ${img.width}x${img.height} ${summary}, ${ms.toFixed(1)}ms`);
      for (const row of rows) print(`  ${row.class} ${row.confidence.toFixed(2)} [${row.box.join(", ")}]`);
    }
    print(json ? JSON.stringify({ type: "predict", dir, images: sources.length }) : `Results saved to ${dir}`);
  } finally {
    await detector.release();
  }
}

export async function runCli(argv: string[], print: Print = (text) => console.log(text)): Promise<void> {
  const { command, args, json } = parseCliArgs(argv);
  switch (command) {
    case "train":
      return runTrain(args, json, print);
    case "val":
      return runVal(args, json, print);
    case "export":
      return runExport(args, json, print);
    case "predict":
      return runPredict(args, json, print);
    case "bench": {
      const { runTrainBench } = await import("../bench/train");
      await runTrainBench(print, []);
      return;
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runCli(process.argv.slice(2)).catch((error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
