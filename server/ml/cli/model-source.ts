// What model= names, as Ultralytics reads it: a zoo name, a model yaml, a PyTorch/Ultralytics .pt, an
// .onnx file, or one of our checkpoints (a .ckpt, weights/best without its extension, a run folder).
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { compileGraph } from "../graph/compile";
import type { ModelGraph } from "../graph/schema";
import { parseUltralyticsYaml } from "../graph/ultralytics-yaml";
import { torchArchitecture, torchModel, type TorchArchitecture } from "../io/torch-architecture";
import { readTorchCheckpoint, type TorchCheckpoint } from "../io/torch-zip";
import { CHECKPOINT_EXTENSION, disposeContents, loadCheckpointModel, readCheckpoint, readCheckpointHeader, resolveCheckpointPath, type CheckpointHeader } from "../train/checkpoint";
import { zooModels } from "../zoo/index";
import { CliError } from "./args";

export type ModelSource =
  | { kind: "zoo"; name: string; task: "classify" | "detect" }
  | { kind: "yaml"; file: string; text: string; task: "classify" | "detect" }
  | { kind: "graph"; file: string; graph: ModelGraph }
  | { kind: "torch"; file: string; checkpoint: TorchCheckpoint; arch: TorchArchitecture }
  | { kind: "onnx"; file: string }
  | { kind: "checkpoint"; file: string; header: CheckpointHeader };

const TORCH = /\.(pt|pth)$/i;

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export async function resolveModel(value: string, command: string): Promise<ModelSource> {
  const zoo = zooModels.find((m) => m.name === value);
  if (zoo) return { kind: "zoo", name: zoo.name, task: zoo.task };
  const isFile = /\.(pt|pth|onnx|ya?ml|json)$/i.test(value);
  if (isFile && !(await exists(value))) {
    const stem = path.basename(value).replace(/\.[^.]+$/, "");
    const hint = zooModels.some((m) => m.name === stem) ? ` (nothing is downloaded here: put the file there, or use model=${stem} to start from scratch)` : "";
    throw new CliError(`model=${value}: file not found${hint}`);
  }
  if (TORCH.test(value)) {
    const checkpoint = await readTorchCheckpoint(value);
    return { kind: "torch", file: value, checkpoint, arch: torchArchitecture(checkpoint, path.basename(value)) };
  }
  if (/\.onnx$/i.test(value)) return { kind: "onnx", file: value };
  if (/\.ya?ml$/i.test(value)) {
    const text = await readFile(value, "utf8");
    return { kind: "yaml", file: value, text, task: parseUltralyticsYaml(text, { fileName: path.basename(value) }).task };
  }
  if (/\.json$/i.test(value)) return { kind: "graph", file: value, graph: JSON.parse(await readFile(value, "utf8")) as ModelGraph };
  let file: string;
  try {
    file = await resolveCheckpointPath(value);
  } catch (error) {
    throw new CliError(
      `model=${value} is not a zoo model (${zooModels.map((m) => m.name).join(", ")}), a .pt/.onnx/.yaml file or a checkpoint: ${(error as Error).message} (${command})`,
    );
  }
  return { kind: "checkpoint", file, header: await readCheckpointHeader(file) };
}

/** A model with weights, ready to run: what val, export and predict work on. */
export interface LoadedModel {
  model: tf.LayersModel;
  graph: ModelGraph | null;
  task: "classify" | "detect";
  classNames: string[];
  imgsz: number;
  /** The file's path without its extension: exports are written beside it. */
  base: string;
  /** The training settings that made it (our checkpoints), for its dataset and seed. */
  config: Record<string, unknown>;
}

/** Our checkpoint or a .pt, at `imgsz` when asked (rebuilt from the graph; weights do not depend on it). */
export async function loadModel(source: ModelSource, command: string, imgsz?: number): Promise<LoadedModel> {
  if (source.kind === "torch") {
    const size = imgsz ?? source.arch.imgsz;
    const { model, graph } = torchModel(source.checkpoint, source.arch, size);
    return { model, graph, task: source.arch.task, classNames: source.arch.classNames, imgsz: size, base: source.file.replace(TORCH, ""), config: {} };
  }
  if (source.kind !== "checkpoint") {
    const what = source.kind === "onnx" ? "an ONNX file" : source.kind === "zoo" ? "a zoo model without weights" : "a model without weights";
    throw new CliError(`${command} needs trained weights (a checkpoint, a run folder or a .pt file); model= names ${what}`);
  }
  const contents = await readCheckpoint(source.file);
  let model: tf.LayersModel;
  try {
    model = await loadCheckpointModel(contents);
  } finally {
    disposeContents(contents);
  }
  const { header } = source;
  const own = header.inputShape[0];
  const base = source.file.endsWith(CHECKPOINT_EXTENSION) ? source.file.slice(0, -CHECKPOINT_EXTENSION.length) : source.file;
  const loaded = { graph: header.graph ?? null, task: header.task, classNames: header.classNames, base, config: header.config };
  if (imgsz === undefined || imgsz === own) return { ...loaded, model, imgsz: own };
  if (!header.graph) {
    model.dispose();
    throw new CliError(`imgsz=${imgsz}: ${source.file} has no model graph, so it only runs at its own size ${own}`);
  }
  const resized = compileGraph(header.graph, { inputShape: [imgsz, imgsz, 3], seed: 0 });
  resized.setWeights(model.getWeights());
  model.dispose();
  return { ...loaded, model: resized, imgsz };
}
