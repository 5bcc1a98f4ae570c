import type { Ctx } from "@/server/context";
import { Conflict, Invalid, NotFound } from "@/server/errors";
import { parsePathId } from "@/server/http/input";
import { torchNamerForZooModel } from "@/server/ml/io/torch-to-graph";
import { zooModels } from "@/server/ml/zoo/index";
import { getWeights, listWeights, type WeightsView } from "./queries";
import { weightsFilePath } from "./storage";

/**
 * Fine-tuning from the library: an experiment names the entry it starts from as
 * `hyperparameters.weights = <weights id>` (delete.ts refuses to delete it while the run is active).
 */

export interface FineTuneTarget {
  /** The dataset's task. */
  task: string;
  /** The zoo model the experiment trains, or null with an architecture. */
  model: string | null;
  architectureId: number | null;
}

const zooTask = (name: string | null) => zooModels.find((zoo) => zoo.name === name)?.task ?? null;

/**
 * The entry an experiment may start from: the caller's team's, ready, for the dataset's task, and for
 * the network the experiment trains (PyTorch files only onto the zoo models with a PyTorch original).
 */
export async function checkFineTuneWeights(ctx: Ctx, id: number, target: FineTuneTarget, field = "hyperparameters.weights"): Promise<WeightsView> {
  const entry = await getWeights(ctx, id).catch((error: unknown) => {
    if (error instanceof NotFound) throw new NotFound(`Weights ${id} not found`, { [field]: ["not found"] });
    throw error;
  });
  if (entry.status !== "ready") throw new Conflict(`Weights ${entry.name} are ${entry.status}; fine-tune from ready weights`, { [field]: [`weights are ${entry.status}`] });
  if (entry.format === "onnx") {
    throw new Invalid(`Weights ${entry.name} are an ONNX file, which training cannot start from; pick the .pt, .ckpt or TF.js entry it was exported from`, { [field]: ["ONNX weights cannot be fine-tuned"] });
  }
  const task = entry.task ?? zooTask(entry.model);
  if (task !== null && task !== target.task) throw new Invalid(`Weights ${entry.name} are for ${task}, the dataset is ${target.task}`, { [field]: ["task differs from the dataset's"] });
  const trains = target.model ?? `architecture ${target.architectureId}`;
  if (entry.model !== null && entry.model !== target.model) {
    throw new Invalid(`Weights ${entry.name} are for ${entry.model}; the experiment trains ${trains}`, { [field]: [`weights are for ${entry.model}`] });
  }
  if (entry.architectureId !== null && entry.architectureId !== target.architectureId) {
    throw new Invalid(`Weights ${entry.name} are for architecture ${entry.architectureName ?? entry.architectureId}; the experiment trains ${trains}`, { [field]: ["weights are for another architecture"] });
  }
  const sameArchitecture = entry.architectureId !== null && entry.architectureId === target.architectureId;
  if (entry.format === "pt" && !sameArchitecture && !(target.model && torchNamerForZooModel(target.model))) {
    throw new Invalid(`PyTorch weights load onto resnet18, resnet34, mobilenet_v2 or yolov8n–x; the experiment trains ${trains}`, { [field]: ["PyTorch weights need a zoo model with a PyTorch original"] });
  }
  return entry;
}

/** The file a run loads as its pretrained weights (absolute path); `ctx` acts for the run's team. */
export async function fineTuneWeightsFile(ctx: Ctx, id: number): Promise<string> {
  const entry = await getWeights(ctx, id).catch((error: unknown) => {
    throw error instanceof NotFound ? new Conflict(`The weights ${id} this experiment starts from were deleted`) : error;
  });
  if (entry.status !== "ready") throw new Conflict(`The weights ${id} this experiment starts from are ${entry.status}`);
  return weightsFilePath(entry.file);
}

/**
 * The entry an old client names instead of a model (seed 000's `model_type`): `weights:<id>`,
 * `weights:<name>`, or the name of an entry in the project. Null when the reference names no entry.
 */
export async function findWeightsByReference(ctx: Ctx, projectId: number, reference: string): Promise<WeightsView | null> {
  const prefixed = /^weights:(.+)$/.exec(reference);
  const key = prefixed ? prefixed[1].trim() : reference;
  if (prefixed && /^\d+$/.test(key)) {
    try {
      return await getWeights(ctx, parsePathId(key, "Weights"));
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }
  const [byName] = await listWeights(ctx, { projectId, search: key, limit: 50 }).then((rows) => rows.filter((row) => row.name === key));
  return byName ?? null;
}

/** What an experiment that fine-tunes from the entry trains: the network the entry says it is. */
export function fineTuneModel(entry: WeightsView): { model: string } | { architectureId: number } {
  if (entry.model !== null) return { model: entry.model };
  if (entry.architectureId !== null) return { architectureId: entry.architectureId };
  throw new Invalid(`Weights ${entry.name} do not say which network they are for; name the zoo model and pass the weights as a hyper-parameter`, { "hyperparameters.weights": ["weights name no model"] });
}
