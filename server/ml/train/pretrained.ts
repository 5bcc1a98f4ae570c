import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadTorchTensors, torchNamerForZooModel, type ModuleNamer } from "../io/torch-to-graph";
import { UnreadableWeightsError } from "../io/errors";
import { readTorchCheckpoint, type TorchCheckpoint } from "../io/torch-zip";
import { isRelativeInside, sizeText, openZipArchive, TFJS_ZIP_LIMITS } from "../io/zip-archive";
import { CheckpointError, disposeContents, readCheckpoint, resolveCheckpointPath, transferWeights } from "./checkpoint";

/**
 * Fine-tuning: puts the weights of a pretrained file into a freshly built model — the studio's own
 * `.ckpt` (by weight name), a zipped TF.js layers model (by weight name) or a PyTorch `.pt`/`.pth`
 * (by module name, onto the zoo model of the same name). Layers that do not fit stay as initialised,
 * and so does the head when the file's classes differ from the dataset's. The returned lines say how
 * many tensors were transferred and which were not.
 */

export interface PretrainedTarget {
  model: tf.LayersModel;
  /** The dataset's classes, which the model's head predicts. */
  classNames: string[];
  /** The zoo model's name when the model is one: a PyTorch file's modules are named as its original's. */
  zooModel: string | null;
}

export type PretrainedFormat = "ckpt" | "pt" | "tfjs";

/** A file's format by its name: what the weights library and Ultralytics users name them. */
export function pretrainedFormat(file: string): PretrainedFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".pt" || ext === ".pth") return "pt";
  if (ext === ".zip" || path.basename(file) === "model.json") return "tfjs";
  return "ckpt";
}

const LISTED = 20;

function listed(names: string[]): string {
  const shown = names.slice(0, LISTED).join(", ");
  return names.length > LISTED ? `${shown} … and ${names.length - LISTED} more` : shown;
}

const sameClasses = (a: string[], b: string[]) => a.length === b.length && a.every((name, i) => name === b[i]);

/**
 * The layers that predict the classes: walking back from the outputs through layers without weights,
 * the first layers with weights whose last dimension is the class count (a classifier's Dense, a
 * detector's class convolutions; not its box convolutions).
 */
export function headLayers(model: tf.LayersModel, numClasses: number): tf.layers.Layer[] {
  const found = new Set<tf.layers.Layer>();
  const seen = new Set<tf.layers.Layer>();
  const visit = (layer: tf.layers.Layer) => {
    if (seen.has(layer)) return;
    seen.add(layer);
    if (layer.weights.length > 0) {
      const kernel = layer.weights[0].shape;
      if (kernel[kernel.length - 1] === numClasses) found.add(layer);
      return;
    }
    for (const node of layer.inboundNodes) for (const inbound of node.inboundLayers) visit(inbound);
  };
  for (const layer of model.outputLayers) visit(layer);
  return [...found];
}

/** The head to leave as initialised: only when the file names its classes and they are not the dataset's. */
function headToReset(target: PretrainedTarget, sourceClasses: string[] | null): { layers: Set<string>; line: string | null } {
  if (!sourceClasses || sourceClasses.length === 0 || sameClasses(sourceClasses, target.classNames)) return { layers: new Set(), line: null };
  const layers = headLayers(target.model, target.classNames.length).map((layer) => layer.name);
  const describe = (names: string[]) => `${names.length}: ${listed(names)}`;
  return {
    layers: new Set(layers),
    line: `Head re-initialised (${layers.join(", ") || "no head layer found"}): the weights' classes (${describe(sourceClasses)}) differ from the dataset's (${describe(target.classNames)})`,
  };
}

/** Loads `source` into `target.model`; returns the lines for the run's log. */
export async function loadPretrained(target: PretrainedTarget, source: string): Promise<string[]> {
  const format = pretrainedFormat(source);
  if (format === "pt") return loadTorchFile(target, source);
  if (format === "tfjs") return loadTfjsFile(target, source);
  const file = await resolveCheckpointPath(source);
  const contents = await readCheckpoint(file);
  try {
    return transferByName(target, contents.weights, contents.header.classNames, file);
  } finally {
    disposeContents(contents);
  }
}

/** The studio's checkpoints and TF.js models name weights as our layers do ("fc/kernel"). */
function transferByName(target: PretrainedTarget, weights: tf.NamedTensorMap, sourceClasses: string[] | null, file: string): string[] {
  const head = headToReset(target, sourceClasses);
  const headWeights = new Set(target.model.layers.filter((layer) => head.layers.has(layer.name)).flatMap((layer) => layer.weights.map((w) => w.originalName)));
  const kept = Object.fromEntries(Object.entries(weights).filter(([name]) => !headWeights.has(name)));
  const { loaded, skipped } = transferWeights(target.model, kept);
  const lines = [`Transferred ${loaded.length}/${target.model.weights.length} tensors from pretrained weights ${file}`];
  if (head.line) lines.push(head.line);
  const mismatched = skipped.filter((name) => !headWeights.has(name));
  if (mismatched.length > 0) lines.push(`Not transferred (name or shape differs, left as initialised): ${listed(mismatched)}`);
  return lines;
}

/**
 * The namer of the zoo model, or else the one whose naming the file's tensors follow (an architecture
 * built like a zoo model, e.g. at another width).
 */
function namerFor(zooModel: string | null, tensorNames: string[]): ModuleNamer {
  const byZoo = zooModel ? torchNamerForZooModel(zooModel) : null;
  if (byZoo) return byZoo;
  const has = (pattern: RegExp) => tensorNames.some((name) => pattern.test(name));
  const guess = has(/^model\.\d+\./) ? "yolov8n" : has(/^layer\d\.\d+\.conv1\./) ? "resnet18" : has(/^features\.\d+\./) ? "mobilenet_v2" : null;
  const namer = guess ? torchNamerForZooModel(guess) : null;
  if (!namer) throw new CheckpointError(`cannot tell which network the PyTorch tensors are for (${listed(tensorNames.slice(0, 5))}); train a zoo model it fits (resnet18, resnet34, mobilenet_v2, yolov8n–x)`);
  return namer;
}

async function loadTorchFile(target: PretrainedTarget, file: string): Promise<string[]> {
  return transferTorchCheckpoint(target, await readTorchCheckpoint(file), file);
}

/** A read PyTorch checkpoint into the model by module name; `file` names it in the lines. */
export function transferTorchCheckpoint(target: PretrainedTarget, checkpoint: Pick<TorchCheckpoint, "tensors" | "names" | "kind">, file: string): string[] {
  const head = headToReset(target, checkpoint.names);
  const namer = namerFor(target.zooModel, [...checkpoint.tensors.keys()]);
  const report = loadTorchTensors(target.model, checkpoint.tensors, (layer, layers) => (head.layers.has(layer) ? null : namer(layer, layers)));
  const total = [...checkpoint.tensors.keys()].filter((name) => !name.endsWith(".num_batches_tracked")).length;
  const lines = [`Transferred ${report.transferred.length}/${total} tensors from pretrained weights ${file} (PyTorch, ${checkpoint.kind})`];
  if (head.line) lines.push(head.line);
  const skipped = report.skipped.filter((entry) => !head.layers.has(entry.layer));
  if (skipped.length > 0) lines.push(`Not transferred (left as initialised): ${listed(skipped.map((entry) => `${entry.layer} (${entry.reason})`))}`);
  if (report.unused.length > 0) lines.push(`Not used from the file: ${listed(report.unused)}`);
  return lines;
}

/** A zipped TF.js layers model (model.json and its shards), or an unzipped folder's model.json. */
async function loadTfjsFile(target: PretrainedTarget, file: string): Promise<string[]> {
  const model = file.toLowerCase().endsWith(".zip") ? await readZippedModel(file) : await readFolderModel(file);
  const specs = model.json.weightsManifest.flatMap((group) => group.weights);
  const data = Buffer.concat(model.shards);
  const weights = tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer, specs);
  const metadata = model.json.userDefinedMetadata as { names?: unknown } | undefined;
  const names = Array.isArray(metadata?.names) && metadata.names.every((n) => typeof n === "string") ? (metadata.names as string[]) : null;
  try {
    return transferByName(target, weights, names, file);
  } finally {
    tf.dispose(Object.values(weights));
  }
}

interface TfjsModelFiles {
  json: tf.io.ModelJSON & { weightsManifest: tf.io.WeightsManifestConfig };
  /** The listed shards' bytes, in manifest order. */
  shards: Uint8Array[];
}

function parseModelJson(file: string, bytes: Uint8Array): TfjsModelFiles["json"] {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new CheckpointError(`${file}: model.json is not JSON: ${(error as Error).message}`);
  }
  const manifest = (json as { weightsManifest?: unknown } | null)?.weightsManifest;
  if (!Array.isArray(manifest) || !manifest.every((group) => Array.isArray(group?.paths) && Array.isArray(group?.weights))) {
    throw new CheckpointError(`${file}: model.json has no weightsManifest of paths and weights`);
  }
  for (const shard of manifest.flatMap((group: { paths: unknown[] }) => group.paths)) {
    if (!isRelativeInside(shard)) throw new CheckpointError(`${file}: model.json lists the weights file ${JSON.stringify(shard)}, which is not a file beside it`);
  }
  return json as TfjsModelFiles["json"];
}

/** model.json and the shards it lists, from a zip within TFJS_ZIP_LIMITS (a top-level folder, as `zip -r model/` writes, is allowed). */
async function readZippedModel(file: string): Promise<TfjsModelFiles> {
  const zip = await openZipArchive(file, TFJS_ZIP_LIMITS).catch((error: unknown) => {
    throw error instanceof UnreadableWeightsError ? new CheckpointError(`${file}: ${error.message}`) : error;
  });
  try {
    const manifests = [...zip.entries.keys()].filter((name) => path.posix.basename(name) === "model.json" && !name.startsWith("__MACOSX/"));
    if (manifests.length !== 1) throw new CheckpointError(manifests.length === 0 ? `${file} has no model.json` : `${file} holds several model.json files`);
    const prefix = manifests[0].slice(0, -"model.json".length);
    const json = parseModelJson(file, await zip.read(zip.entries.get(manifests[0])!));
    const shards: Uint8Array[] = [];
    for (const shard of json.weightsManifest.flatMap((group) => group.paths)) {
      const entry = zip.entries.get(path.posix.join(prefix, shard));
      if (!entry) throw new CheckpointError(`${file}: model.json lists ${shard}, which is missing`);
      shards.push(await zip.read(entry));
    }
    return { json, shards };
  } finally {
    zip.close();
  }
}

/** model.json and its shards from a folder: the same caps as a zip, and no shard outside the folder (links included). */
async function readFolderModel(file: string): Promise<TfjsModelFiles> {
  const dir = await realpath(path.dirname(file));
  const { maxEntries, maxEntryBytes, maxTotalBytes } = TFJS_ZIP_LIMITS;
  const within = async (name: string): Promise<string> => {
    const full = await realpath(path.join(dir, name)).catch(() => null);
    if (!full) throw new CheckpointError(`${file}: model.json lists ${name}, which is missing`);
    if (!full.startsWith(dir + path.sep)) throw new CheckpointError(`${file}: model.json lists ${name}, which leads outside its folder`);
    const bytes = (await stat(full)).size;
    if (bytes > maxEntryBytes) throw new CheckpointError(`${file}: ${name} is ${sizeText(bytes)}, more than the ${sizeText(maxEntryBytes)} allowed per file`);
    return full;
  };
  const json = parseModelJson(file, await readFile(await within("model.json")));
  const names = json.weightsManifest.flatMap((group) => group.paths);
  if (names.length > maxEntries) throw new CheckpointError(`${file}: model.json lists ${names.length} weights files, more than the ${maxEntries} allowed`);
  const shards: Uint8Array[] = [];
  let total = 0;
  for (const name of names) {
    const full = await within(name);
    total += (await stat(full)).size;
    if (total > maxTotalBytes) throw new CheckpointError(`${file}: the weights files add up to more than ${sizeText(maxTotalBytes)}`);
    shards.push(await readFile(full));
  }
  return { json, shards };
}
