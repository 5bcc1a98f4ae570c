import { z } from "zod";
import { parseInput } from "@/server/errors";
import type { ValidationSpeed } from "@/server/weights/active-model";
import type { WeightsView } from "@/server/weights/queries";
import { round } from "@/server/compat/shared/experiment-common";

/**
 * Mapper for the old recognition backend's models and metrics (seed 003, `/models`, `/metrics`): its
 * models are the team's weights entries, with string ids; its metrics dict per model
 * (`accuracy`, `precision`, `recall`, `f1_score`, `inference_time` in ms, `last_updated` a date)
 * comes from the entry's latest validation — null where nothing measured it.
 */

export const RECOGNITION_MODEL_MESSAGES = { activated: "活动模型已设置", evaluating: "模型评估已启动" } as const;

type ModelSource = Pick<WeightsView, "id" | "name" | "description" | "format" | "task" | "classNames" | "imgsz" | "model" | "architectureName" | "status" | "createdAt">;

/** The backend's model types were network families (its folders: mobilenet, yolo): ours by zoo name, else the task. */
export function recognitionModelType(entry: Pick<WeightsView, "model" | "task" | "format">): string {
  const family = entry.model ? /^(yolo|mobilenet|resnet)/i.exec(entry.model)?.[1]?.toLowerCase() : undefined;
  return family ?? entry.model ?? entry.task ?? entry.format;
}

/** One model of `GET /models`. */
export function recognitionModel(entry: ModelSource, activeId: number | null) {
  return {
    id: String(entry.id),
    name: entry.name,
    type: recognitionModelType(entry),
    description: entry.description,
    task: entry.task,
    format: entry.format,
    architecture: entry.model ?? entry.architectureName,
    classes: entry.classNames,
    num_classes: entry.classNames.length,
    /** [height, width]; null when the file does not say. */
    input_size: entry.imgsz,
    status: entry.status,
    is_active: entry.id === activeId,
  };
}

type MetricsSource = Pick<WeightsView, "metrics">;

const firstOf = (values: Record<string, number>, keys: string[]) => {
  for (const key of keys) if (typeof values[key] === "number" && Number.isFinite(values[key])) return round(values[key], 4);
  return null;
};

/**
 * A model's metrics dict. accuracy is top-1 for classifiers and mAP50-95 for detectors, as `/train`
 * reports it; f1_score is the validation's own F1 (macro for classifiers), never derived here.
 */
export function recognitionMetrics(entry: MetricsSource, speed: ValidationSpeed | undefined) {
  const values = entry.metrics?.values ?? {};
  return {
    accuracy: firstOf(values, ["top1_acc", "val_acc", "mAP50_95"]),
    precision: firstOf(values, ["precision"]),
    recall: firstOf(values, ["recall"]),
    f1_score: firstOf(values, ["f1", "f1_score", "macro_f1"]),
    inference_time: speed ? round(speed.inference, 1) : null,
    last_updated: entry.metrics ? entry.metrics.validatedAt.slice(0, 10) : null,
  };
}

const modelId = z.union([z.string().trim().min(1).max(200), z.number().int().positive()], { error: "model_id is required" }).transform(String);

export const activateBody = z.object({ model_id: modelId });

export function parseActivateModel(body: unknown): { modelId: string } {
  const result = parseInput(activateBody, body);
  return { modelId: result.model_id };
}

export const evaluateBody = z
  .object({
    /** Ours: the dataset to evaluate on; default the one the weights were trained on. */
    dataset_id: z.number({ error: "dataset_id must be an integer id" }).int().positive().max(2_147_483_647).optional(),
    split: z.enum(["val", "test"], { error: "split must be val or test" }).optional(),
    batch_size: z.number().int().min(1).max(256).optional(),
    image_size: z.number().int().min(8).max(2048).optional(),
    device: z.string().trim().min(1).max(40).optional(),
  })
  .default({});

export interface EvaluateRequest {
  datasetId?: number;
  split?: "val" | "test";
  batch?: number;
  imgsz?: number;
  device?: string;
}

export function parseEvaluateModel(body: unknown): EvaluateRequest {
  const input = parseInput(evaluateBody, body ?? {});
  return { datasetId: input.dataset_id, split: input.split, batch: input.batch_size, imgsz: input.image_size, device: input.device };
}

/** What `POST /metrics/{model_id}/evaluate` answers: the queued validation job, whose figures `/metrics` shows when done. */
export function recognitionEvaluation(modelId: number, validation: { id: number; status: string; datasetId: number | null; split: string }) {
  return {
    model_id: String(modelId),
    evaluation_id: String(validation.id),
    status: validation.status === "queued" ? "pending" : validation.status,
    dataset_id: validation.datasetId,
    split: validation.split,
    message: RECOGNITION_MODEL_MESSAGES.evaluating,
  };
}
