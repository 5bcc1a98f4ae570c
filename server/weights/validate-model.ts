// A weights file opened for validation and export: ONNX files on ONNX Runtime, everything else as a TF.js
// model through the engine. Both answer in one layout (detection: decoded [N, 4 + nc, anchors] like an
// Ultralytics export; classification: probabilities [N, nc]), so metrics and parity treat them alike.

import * as tf from "@tensorflow/tfjs";
import path from "node:path";
import type { WeightsFormat } from "@/db/schema";
import { Invalid } from "@/server/errors";
import { initBackend, parseDevice, tfjsBackendOf } from "@/server/ml/backend/index";
import { decodeRawOutput, makeAnchors } from "@/server/ml/detect/dfl";
import { compileGraph, type ModelGraph } from "@/server/ml/graph/index";
import { loadTorchTensors, torchNamerForZooModel, withTorchBatchNorms } from "@/server/ml/io/torch-to-graph";
import { UnreadableWeightsError } from "@/server/ml/io/errors";
import { readTorchCheckpoint } from "@/server/ml/io/torch-zip";
import { isRelativeInside, openZipArchive, TFJS_ZIP_LIMITS } from "@/server/ml/io/zip-archive";
import { loadOnnxSession } from "@/server/ml/onnx/runtime";
import { assignWeights, disposeContents, loadCheckpointModel, readCheckpoint } from "@/server/ml/train/checkpoint";
import { outputsProbabilities } from "@/server/ml/train/classify";
import { zooGraph, zooModels } from "@/server/ml/zoo/index";
// Registers the detection layers and adapter, which checkpoints of detection runs need.
import "@/server/ml/detect/adapter";

export type ModelTask = "classify" | "detect";

/** What the studio knows about the file before opening it (a weights entry, or a run's checkpoint). */
export interface ModelSource {
  file: string;
  format: WeightsFormat;
  task: ModelTask;
  classNames: string[];
  /** The zoo model a PyTorch state dict is for. */
  model: string | null;
  /** The entry's own image size, when it has one. */
  imgsz: number | null;
}

export interface EngineModel {
  task: ModelTask;
  classNames: string[];
  imgsz: number;
  /** "onnxruntime" or the TF.js backend ("tfjs-node", "wasm", "cpu" …). */
  runtime: string;
  /** Images per run: a fixed-batch ONNX file's batch, else any number (Infinity). */
  fixedBatch: number | null;
  /** NHWC input [n, imgsz, imgsz, 3] in [0, 1] → the common output layout (see above). */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** A TF.js model with the graph it was compiled from (absent for topology-only checkpoints and TF.js files). */
export interface TfjsModel {
  model: tf.LayersModel;
  graph: ModelGraph | null;
  imgsz: number;
}

/** The backend TF.js runs on for `device` (auto: the fastest present). */
export async function tfjsBackend(device: string): Promise<string> {
  try {
    return tfjsBackendOf(await initBackend(parseDevice(device)));
  } catch (error) {
    throw new Invalid(`device ${device} cannot be used here: ${(error as Error).message}`, { device: [(error as Error).message] });
  }
}

/** The model compiled again at another square input size, with the same weights (fully convolutional graphs). */
function atImgsz(model: tf.LayersModel, graph: ModelGraph, imgsz: number): tf.LayersModel {
  const resized = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 0 });
  assignWeights(resized, Object.fromEntries(model.weights.map((w) => [w.originalName, w.read()])));
  model.dispose();
  return resized;
}

function modelImgsz(model: tf.LayersModel): number {
  const [, height, width] = model.inputs[0].shape;
  if (typeof height !== "number" || height !== width) throw new Invalid(`the model's input is ${height}x${width}; validation needs a square input`, { imgsz: ["not square"] });
  return height;
}

/** Opens a non-ONNX file as a TF.js model at `imgsz` (default: the file's own size). */
export async function loadTfjsModel(source: ModelSource, imgsz?: number): Promise<TfjsModel> {
  let model: tf.LayersModel;
  let graph: ModelGraph | null = null;
  if (source.format === "ckpt") {
    const contents = await readCheckpoint(source.file);
    try {
      model = await loadCheckpointModel(contents);
      graph = contents.header.graph ?? null;
    } finally {
      disposeContents(contents);
    }
  } else if (source.format === "pt") {
    ({ model, graph } = await loadTorchModel(source, imgsz ?? source.imgsz ?? (source.task === "detect" ? 640 : 224)));
  } else if (source.format === "tfjs") {
    model = await loadTfjsZip(source.file);
  } else {
    throw new Invalid("ONNX files run on ONNX Runtime, not TF.js", { format: ["onnx"] });
  }
  const own = modelImgsz(model);
  if (imgsz === undefined || imgsz === own) return { model, graph, imgsz: own };
  if (!graph) {
    model.dispose();
    throw new Invalid(`imgsz ${imgsz}: these weights have no model graph, so they only run at their own size ${own}`, { imgsz: [`must be ${own}`] });
  }
  return { model: atImgsz(model, graph, imgsz), graph, imgsz };
}

/** A PyTorch file onto the zoo model it names (Ultralytics YOLOv8, torchvision ResNet / MobileNetV2). */
async function loadTorchModel(source: ModelSource, imgsz: number): Promise<{ model: tf.LayersModel; graph: ModelGraph }> {
  const zoo = source.model && zooModels.some((m) => m.name === source.model) ? source.model : null;
  const namer = zoo ? torchNamerForZooModel(zoo) : null;
  if (!zoo || !namer) {
    throw new Invalid(`the PyTorch weights name no zoo model the engine can load them into (got ${source.model ?? "none"}); import them with model=yolov8n, resnet18 …`, { model: ["unknown"] });
  }
  const checkpoint = await readTorchCheckpoint(source.file);
  const graph = withTorchBatchNorms(zooGraph(zoo, { imgsz, numClasses: source.classNames.length }), checkpoint.batchNorms, namer);
  const model = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 0 });
  const report = loadTorchTensors(model, checkpoint.tensors, namer);
  if (report.skipped.length > 0) {
    model.dispose();
    const which = report.skipped.slice(0, 5).map((s) => `${s.layer}: ${s.reason}`).join("; ");
    throw new Invalid(`the PyTorch weights do not fit ${zoo} with ${source.classNames.length} classes (${which})`, { model: [which] });
  }
  return { model, graph };
}

/** Reads model.json and the shards it lists from a zipped TF.js folder within TFJS_ZIP_LIMITS (in memory: the archive is never extracted). */
async function loadTfjsZip(file: string): Promise<tf.LayersModel> {
  const zip = await openZipArchive(file, TFJS_ZIP_LIMITS).catch((error: unknown) => {
    throw error instanceof UnreadableWeightsError ? new Invalid(`the TF.js archive cannot be read: ${error.message}`, { file: [error.message] }) : error;
  });
  try {
    const manifest = [...zip.entries.keys()].find((name) => path.posix.basename(name) === "model.json" && !name.startsWith("__MACOSX/"));
    if (!manifest) throw new Invalid("the TF.js archive has no model.json", { file: ["no model.json"] });
    const modelJson = JSON.parse(Buffer.from(await zip.read(zip.entries.get(manifest)!)).toString("utf8")) as tf.io.ModelJSON;
    const folder = path.posix.dirname(manifest);
    const shards: ArrayBuffer[] = [];
    for (const shard of modelJson.weightsManifest.flatMap((group) => group.paths)) {
      if (!isRelativeInside(shard)) throw new Invalid(`the TF.js archive's model.json lists ${JSON.stringify(shard)}, which is not a file beside it`, { file: ["a shard outside model.json's folder"] });
      const entry = zip.entries.get(path.posix.join(folder === "." ? "" : folder, shard));
      if (!entry) throw new Invalid(`the TF.js archive lacks ${shard}`, { file: [`missing ${shard}`] });
      // zip.read answers a fresh buffer of exactly the entry's bytes.
      shards.push((await zip.read(entry)).buffer as ArrayBuffer);
    }
    const artifacts = tf.io.getModelArtifactsForJSONSync(modelJson, modelJson.weightsManifest.flatMap((g) => g.weights), tf.io.CompositeArrayBuffer.join(shards));
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } finally {
    zip.close();
  }
}

/** A TF.js model answering in the common layout: the detection decode appended, softmax where it ends in logits. */
export function tfjsEngineModel(loaded: TfjsModel, task: ModelTask, classNames: string[], runtime: string): EngineModel {
  const { model, imgsz } = loaded;
  const probabilities = task === "classify" && outputsProbabilities(model);
  const grid = task === "detect" ? makeAnchors(imgsz, imgsz) : null;
  return {
    task,
    classNames,
    imgsz,
    runtime,
    fixedBatch: null,
    async run(x, n) {
      const output = tf.tidy(() => {
        const out = model.apply(tf.tensor4d(x, [n, imgsz, imgsz, 3]), { training: false }) as tf.Tensor;
        return task === "classify" && !probabilities ? tf.softmax(out) : out;
      });
      try {
        const data = (await output.data()) as Float32Array;
        return grid ? decodeRawOutput(data, { batch: n, numClasses: classNames.length, grid }) : data;
      } finally {
        output.dispose();
      }
    },
    async release() {
      model.dispose();
    },
  };
}

/** An ONNX file (ours or Ultralytics') on ONNX Runtime: input [N, 3, H, W] in [0, 1]. */
export async function onnxEngineModel(file: string, task: ModelTask, classNames: string[], device: string, imgsz?: number): Promise<EngineModel> {
  const session = await loadOnnxSession(file, { device: device.startsWith("cuda") ? "cuda" : "cpu" }).catch((error: Error) => {
    throw new Invalid(error.message, { device: [error.message] });
  });
  const [batch, channels, height, width] = session.inputShape;
  const size = height > 0 ? height : (imgsz ?? Number(/\d+/.exec(session.metadata.imgsz ?? "")?.[0]));
  if (session.inputShape.length !== 4 || (channels > 0 && channels !== 3) || (width > 0 && width !== height) || !(size > 0)) {
    await session.release();
    throw new Invalid(`the ONNX input is [${session.inputShape.join(", ")}]; validation needs a square [N, 3, H, W] image input`, { file: ["input layout"] });
  }
  if (imgsz !== undefined && imgsz !== size) {
    await session.release();
    throw new Invalid(`imgsz ${imgsz}: the ONNX file takes ${size}x${size} images`, { imgsz: [`must be ${size}`] });
  }
  const plane = size * size;
  return {
    task,
    classNames,
    imgsz: size,
    runtime: "onnxruntime",
    fixedBatch: batch > 0 ? batch : null,
    async run(x, n) {
      const nchw = new Float32Array(n * 3 * plane);
      for (let b = 0; b < n; b++) {
        const src = b * plane * 3;
        const dst = b * plane * 3;
        for (let i = 0; i < plane; i++) {
          nchw[dst + i] = x[src + 3 * i];
          nchw[dst + plane + i] = x[src + 3 * i + 1];
          nchw[dst + 2 * plane + i] = x[src + 3 * i + 2];
        }
      }
      const [output] = await session.run(nchw, [n, 3, size, size]);
      const perImage = task === "classify" ? classNames.length : (4 + classNames.length) * makeAnchors(size, size).count;
      if (output.data.length !== n * perImage) {
        throw new Invalid(`the ONNX output [${output.dims.join(", ")}] does not fit ${task === "detect" ? "detection" : "classification"} of ${classNames.length} classes at ${size}`, { file: ["output layout"] });
      }
      return output.data;
    },
    release: () => session.release(),
  };
}

/** Opens a file for validation on the runtime its format runs on. */
export async function openEngineModel(source: ModelSource, opts: { device: string; imgsz?: number }): Promise<EngineModel> {
  if (source.format === "onnx") return onnxEngineModel(source.file, source.task, source.classNames, opts.device, opts.imgsz);
  const backend = await tfjsBackend(opts.device);
  return tfjsEngineModel(await loadTfjsModel(source, opts.imgsz), source.task, source.classNames, `tfjs-${backend}`);
}
