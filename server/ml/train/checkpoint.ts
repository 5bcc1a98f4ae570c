import { open, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { compileGraph, type ModelGraph } from "../graph/index";
import type { OptimizerName } from "./config";
import type { NamedTensor, OptimizerState } from "./optimizers";

/**
 * Checkpoint file (`*.ckpt`): the 8 bytes "TFSCKPT1", a uint32 LE header length, a JSON header,
 * then the model weights and the optimizer slots as tf.io weight blobs. One file so that it can
 * be replaced atomically (temp file, fsync, rename) — a folder cannot.
 */
const MAGIC = "TFSCKPT1";
export const CHECKPOINT_EXTENSION = ".ckpt";

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** Where training stands: `epoch` is the epoch in progress (1-based), `step` the steps done in it. */
export interface TrainProgress {
  epoch: number;
  step: number;
  /** Running sums of the unfinished epoch, so a mid-epoch resume reports the same epoch means. */
  running: Record<string, number>;
  trainSeconds: number;
  bestFitness: number | null;
  bestEpoch: number;
}

export interface CheckpointHeader {
  format: 1;
  task: "classify" | "detect";
  classNames: string[];
  /** [H, W, C] without batch. */
  inputShape: [number, number, number];
  /** The graph the model was compiled from; absent for models built directly with tf.layers. */
  graph?: ModelGraph;
  /** Keras-style topology, used when there is no graph. */
  modelTopology?: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightBytes: number;
  optimizer?: { name: OptimizerName; step: number; lr0: number; momentum: number; specs: tf.io.WeightsManifestEntry[]; bytes: number };
  progress: TrainProgress;
  /** Everything random derives from (seed, epoch): data order, augmentation, weight init. */
  rng: { seed: number };
  /** The resolved training config (JSON-safe). */
  config: Record<string, unknown>;
  metrics?: Record<string, number>;
  savedAt: string;
}

export interface CheckpointContents {
  header: CheckpointHeader;
  /** Weights by their layer weight's original name ("conv1/kernel"). The caller disposes them. */
  weights: tf.NamedTensorMap;
  optimizer?: OptimizerState;
}

export interface SaveCheckpointInput {
  model: tf.LayersModel;
  task: CheckpointHeader["task"];
  classNames: string[];
  inputShape: [number, number, number];
  graph?: ModelGraph;
  optimizer?: { state: OptimizerState; lr0: number; momentum: number };
  progress: TrainProgress;
  seed: number;
  config: Record<string, unknown>;
  metrics?: Record<string, number>;
}

/** Weights keyed by stable names; tf variable names get _1 suffixes when a model is built twice. */
export function namedWeights(model: tf.LayersModel): NamedTensor[] {
  return model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
}

export async function saveCheckpoint(file: string, input: SaveCheckpointInput): Promise<void> {
  const weights = await tf.io.encodeWeights(namedWeights(input.model));
  const optimizerBlob = input.optimizer ? await tf.io.encodeWeights(input.optimizer.state.slots) : undefined;
  const header: CheckpointHeader = {
    format: 1,
    task: input.task,
    classNames: input.classNames,
    inputShape: input.inputShape,
    graph: input.graph,
    modelTopology: input.graph ? undefined : (input.model.toJSON(null, false) as object),
    weightSpecs: weights.specs,
    weightBytes: weights.data.byteLength,
    optimizer:
      input.optimizer && optimizerBlob
        ? {
            name: input.optimizer.state.name,
            step: input.optimizer.state.step,
            lr0: input.optimizer.lr0,
            momentum: input.optimizer.momentum,
            specs: optimizerBlob.specs,
            bytes: optimizerBlob.data.byteLength,
          }
        : undefined,
    progress: input.progress,
    rng: { seed: input.seed },
    config: input.config,
    metrics: input.metrics,
    savedAt: new Date().toISOString(),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.byteLength);
  const chunks = [Buffer.from(MAGIC, "ascii"), length, headerBytes, new Uint8Array(weights.data)];
  if (optimizerBlob) chunks.push(new Uint8Array(optimizerBlob.data));
  await writeFileAtomic(file, chunks);
}

/**
 * Writes via a temp file in the same folder, fsyncs it, renames it over `file`, then fsyncs the
 * folder: readers see the old file or the new one, never a torn one. On failure the temp file
 * is removed and the old file is untouched.
 */
export async function writeFileAtomic(file: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx");
    try {
      for await (const chunk of chunks) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const folder = await open(path.dirname(file), "r");
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** The header of a checkpoint whose first bytes are `head`, checked against the file's size. */
function parseHeader(file: string, head: Buffer, fileBytes: number): { header: CheckpointHeader; headerEnd: number } {
  if (head.byteLength < 12 || head.toString("ascii", 0, 8) !== MAGIC) {
    throw new CheckpointError(`${file} is not a studio checkpoint (bad magic bytes)`);
  }
  const headerEnd = 12 + head.readUInt32LE(8);
  if (headerEnd > fileBytes) throw new CheckpointError(`${file} is truncated or corrupt: its header runs past the file's ${fileBytes} bytes`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(head.toString("utf8", 12, headerEnd)) as CheckpointHeader;
  } catch (error) {
    throw new CheckpointError(`${file} has a corrupt header: ${(error as Error).message}`);
  }
  const expectedLength = headerEnd + header.weightBytes + (header.optimizer?.bytes ?? 0);
  if (fileBytes !== expectedLength) {
    throw new CheckpointError(`${file} is truncated or corrupt: ${fileBytes} bytes, expected ${expectedLength}`);
  }
  return { header, headerEnd };
}

/** The header alone, read from the file's first bytes: a large checkpoint's weights are never read. */
export async function readCheckpointHeader(file: string): Promise<CheckpointHeader> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    throw new CheckpointError(`cannot read checkpoint ${file}: ${(error as Error).message}`);
  }
  try {
    const fileBytes = (await handle.stat()).size;
    const prefix = Buffer.alloc(12);
    const { bytesRead } = await handle.read(prefix, 0, prefix.byteLength, 0);
    if (bytesRead < prefix.byteLength) return parseHeader(file, prefix.subarray(0, bytesRead), fileBytes).header;
    // Never more than the file holds: a corrupt length is reported by parseHeader, not allocated.
    const head = Buffer.alloc(12 + Math.min(prefix.readUInt32LE(8), fileBytes - 12));
    await handle.read(head, 0, head.byteLength, 0);
    return parseHeader(file, head, fileBytes).header;
  } finally {
    await handle.close();
  }
}

export async function readCheckpoint(file: string): Promise<CheckpointContents> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CheckpointError(`cannot read checkpoint ${file}: ${(error as Error).message}`);
  }
  const { header, headerEnd } = parseHeader(file, bytes, bytes.byteLength);
  const slice = (start: number, length: number) => bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + length) as ArrayBuffer;
  const weights = tf.io.decodeWeights(slice(headerEnd, header.weightBytes), header.weightSpecs);
  const optimizer = header.optimizer
    ? {
        name: header.optimizer.name,
        step: header.optimizer.step,
        slots: Object.entries(tf.io.decodeWeights(slice(headerEnd + header.weightBytes, header.optimizer.bytes), header.optimizer.specs)).map(
          ([name, tensor]) => ({ name, tensor }),
        ),
      }
    : undefined;
  return { header, weights, optimizer };
}

/** Builds the checkpoint's model (from its graph when it has one) and loads all its weights. */
export async function loadCheckpointModel(contents: CheckpointContents): Promise<tf.LayersModel> {
  const { header } = contents;
  let model: tf.LayersModel;
  if (header.graph) {
    model = compileGraph(header.graph, { inputShape: header.inputShape, seed: header.rng.seed });
  } else if (header.modelTopology) {
    model = await tf.models.modelFromJSON({ modelTopology: header.modelTopology } as tf.io.ModelJSON);
  } else {
    throw new CheckpointError("checkpoint has neither a graph nor a model topology");
  }
  const missing = model.weights.filter((w) => !contents.weights[w.originalName]).map((w) => w.originalName);
  if (missing.length > 0) throw new CheckpointError(`checkpoint lacks weights for ${missing.join(", ")}`);
  assignWeights(model, contents.weights);
  return model;
}

/** Writes every weight found in `weights` by original name; shapes must match. */
export function assignWeights(model: tf.LayersModel, weights: tf.NamedTensorMap): void {
  for (const weight of model.weights) {
    const value = weights[weight.originalName];
    if (!value) continue;
    if (!tf.util.arraysEqual(value.shape, weight.shape as number[])) {
      throw new CheckpointError(`weight ${weight.originalName} has shape [${value.shape}] in the checkpoint but [${weight.shape}] in the model`);
    }
    weight.write(value);
  }
}

/**
 * Fine-tuning: copies the weights whose name and shape match, leaving the rest (typically the
 * classification head for another number of classes) as initialised.
 */
export function transferWeights(model: tf.LayersModel, weights: tf.NamedTensorMap): { loaded: string[]; skipped: string[] } {
  const loaded: string[] = [];
  const skipped: string[] = [];
  for (const weight of model.weights) {
    const value = weights[weight.originalName];
    if (value && tf.util.arraysEqual(value.shape, weight.shape as number[])) {
      weight.write(value);
      loaded.push(weight.originalName);
    } else {
      skipped.push(weight.originalName);
    }
  }
  return { loaded, skipped };
}

export function disposeContents(contents: CheckpointContents): void {
  tf.dispose(Object.values(contents.weights));
  tf.dispose(contents.optimizer?.slots.map((s) => s.tensor) ?? []);
}

/**
 * Resolves what a user may pass as weights: a checkpoint file, a path without extension
 * (`…/weights/best`), or a run folder (its best, else last, checkpoint).
 */
export async function resolveCheckpointPath(target: string): Promise<string> {
  const candidates = [target, `${target}${CHECKPOINT_EXTENSION}`];
  for (const candidate of candidates) {
    const info = await stat(candidate).catch(() => null);
    if (info?.isFile()) return candidate;
    if (info?.isDirectory()) {
      for (const name of ["best", "last"]) {
        const inRun = path.join(candidate, "weights", `${name}${CHECKPOINT_EXTENSION}`);
        if ((await stat(inRun).catch(() => null))?.isFile()) return inRun;
      }
      throw new CheckpointError(`${candidate} is a folder without weights/best${CHECKPOINT_EXTENSION} or weights/last${CHECKPOINT_EXTENSION}`);
    }
  }
  throw new CheckpointError(`no checkpoint at ${target}`);
}
