import { open } from "node:fs/promises";
import path from "node:path";
import type { WeightsFormat } from "@/db/schema";
import { Invalid } from "@/server/errors";
import { UnreadableWeightsError } from "@/server/ml/io/errors";
import { readOnnxInfo } from "@/server/ml/io/onnx-info";
import { readTorchMetadata } from "@/server/ml/io/torch-zip";
import { CheckpointError, readCheckpointHeader } from "@/server/ml/train/checkpoint";
import { readTfjsZip } from "./tfjs-zip";

/** What the studio learns from a weights file before it keeps it. */
export interface WeightsInspection {
  format: WeightsFormat;
  task: string | null;
  classNames: string[];
  inputShape: (number | string)[] | null;
  imgsz: [number, number] | null;
  /** The zoo model the file says it is ("yolov8n"), when it says. */
  model: string | null;
  /** Metrics the file carries from the validation at its epoch (the studio's checkpoints). */
  metrics: Record<string, number> | null;
  epoch: number | null;
  details: Record<string, unknown>;
}

const CKPT_MAGIC = "TFSCKPT1";
const ZIP_MAGIC = "PK\x03\x04";
/** A pickle's protocol-2 header: the legacy (non-zip) torch.save format. */
const PICKLE_MAGIC = "\x80\x02";

/** Decides the format from the file's first bytes, then its extension; content wins over the name. */
async function sniff(file: string, filename: string): Promise<Exclude<WeightsFormat, "tfjs"> | "zip" | null> {
  const handle = await open(file, "r");
  const head = Buffer.alloc(8);
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const text = head.toString("latin1");
  const ext = path.extname(filename).toLowerCase();
  if (text === CKPT_MAGIC) return "ckpt";
  if (text.startsWith(ZIP_MAGIC)) return ext === ".zip" ? "zip" : "pt";
  if (text.startsWith(PICKLE_MAGIC) || ext === ".pt" || ext === ".pth") return "pt";
  if (ext === ".onnx") return "onnx";
  return null;
}

function unreadable(filename: string, reason: string): Invalid {
  return new Invalid(`${filename || "the file"} cannot be read: ${reason}`, { file: [reason] });
}

/**
 * Reads a weights file's format, task, classes and input with the engine's readers (never running
 * anything in it). A file that is not one the studio reads is Invalid, naming the reason.
 */
export async function inspectWeightsFile(file: string, filename: string): Promise<WeightsInspection> {
  const format = await sniff(file, filename);
  try {
    switch (format) {
      case "ckpt":
        return await inspectCheckpoint(file);
      case "pt":
        return await inspectTorch(file);
      case "onnx":
        return await inspectOnnx(file);
      case "zip":
        return await inspectTfjs(file);
      case null:
        // No magic bytes and no known extension: ONNX is the one format without a signature.
        return await inspectOnnx(file).catch((error: unknown) => {
          if (error instanceof UnreadableWeightsError) throw new UnreadableWeightsError("not an .onnx, .pt/.pth, studio .ckpt or zipped TF.js model file");
          throw error;
        });
    }
  } catch (error) {
    if (error instanceof UnreadableWeightsError || error instanceof CheckpointError) throw unreadable(filename, readerMessage(error, file));
    throw error;
  }
}

/** Readers name the staged file's path in their messages; the user knows it by the name they uploaded. */
function readerMessage(error: Error, file: string): string {
  return error.message.split(file).join("the file");
}

async function inspectCheckpoint(file: string): Promise<WeightsInspection> {
  const header = await readCheckpointHeader(file);
  const [height, width] = header.inputShape;
  const model = typeof header.config.model === "string" ? header.config.model : null;
  const progress = header.progress;
  return {
    format: "ckpt",
    task: header.task,
    classNames: header.classNames,
    inputShape: header.inputShape,
    imgsz: [height, width],
    model,
    metrics: header.metrics ?? null,
    // Checkpoints are written at the end of an epoch, pointing at the next one.
    epoch: progress.step === 0 ? progress.epoch - 1 : progress.epoch,
    details: {
      kind: "studio checkpoint",
      savedAt: header.savedAt,
      graph: header.graph !== undefined,
      weightTensors: header.weightSpecs.length,
      parameters: header.weightSpecs.reduce((sum, spec) => sum + spec.shape.reduce((n, d) => n * d, 1), 0),
      weightBytes: header.weightBytes,
      optimizer: header.optimizer?.name ?? null,
      bestEpoch: progress.bestEpoch,
      metrics: header.metrics ?? null,
      config: header.config,
    },
  };
}

async function inspectOnnx(file: string): Promise<WeightsInspection> {
  const info = await readOnnxInfo(file);
  return {
    format: "onnx",
    task: info.task,
    classNames: info.names ?? [],
    inputShape: info.inputs[0]?.shape ?? null,
    imgsz: info.imgsz,
    model: null,
    metrics: null,
    epoch: null,
    details: {
      irVersion: info.irVersion,
      producer: [info.producerName, info.producerVersion].filter(Boolean).join(" "),
      opsets: info.opsets,
      inputs: info.inputs,
      outputs: info.outputs,
      metadata: info.metadata,
      taskSource: info.taskSource,
      nc: info.nc,
      stride: info.stride,
      batch: info.batch,
    },
  };
}

/** A zipped TF.js folder; TF.js files carry no task or classes. */
async function inspectTfjs(file: string): Promise<WeightsInspection> {
  const info = await readTfjsZip(file);
  const shape = info.inputShape;
  // Layers models are NHWC: [batch, H, W, C].
  const imgsz = shape?.length === 4 && typeof shape[1] === "number" && typeof shape[2] === "number" ? ([shape[1], shape[2]] as [number, number]) : null;
  return {
    format: "tfjs",
    task: null,
    classNames: [],
    inputShape: shape,
    imgsz,
    model: null,
    metrics: null,
    epoch: null,
    details: { ...info },
  };
}

/** From the archive's central directory and pickle only: a large checkpoint's tensors are never read. */
async function inspectTorch(file: string): Promise<WeightsInspection> {
  const checkpoint = await readTorchMetadata(file);
  const yamlFile = typeof checkpoint.yaml?.yaml_file === "string" ? checkpoint.yaml.yaml_file : null;
  const imgsz = checkpoint.imgsz;
  const channels = typeof checkpoint.yaml?.ch === "number" ? checkpoint.yaml.ch : null;
  return {
    format: "pt",
    task: checkpoint.task,
    classNames: checkpoint.names ?? [],
    inputShape: imgsz && channels ? [1, channels, imgsz[0], imgsz[1]] : null,
    imgsz,
    model: yamlFile ? path.basename(yamlFile).replace(/\.ya?ml$/i, "") : null,
    metrics: null,
    epoch: checkpoint.epoch !== null && checkpoint.epoch >= 0 ? checkpoint.epoch : null,
    details: {
      kind: checkpoint.kind,
      modelClass: checkpoint.modelClass,
      tensors: checkpoint.tensorCount,
      parameters: checkpoint.parameters,
      storageBytes: checkpoint.storageBytes,
      dtypes: checkpoint.dtypes,
      nc: checkpoint.nc,
      stride: checkpoint.stride,
      yaml: checkpoint.yaml,
      trainArgs: checkpoint.trainArgs,
      date: checkpoint.date,
      producerVersion: checkpoint.producerVersion,
      archiveVersion: checkpoint.archiveVersion,
    },
  };
}
