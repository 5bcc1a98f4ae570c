import { z } from "zod";
import { parseInput } from "@/server/errors";
import { engineHyperparameters, legacyStatus, lossTotal, pythonIsoTime, round, type Experiment } from "@/server/compat/shared/experiment-common";
import { experimentName, givenHyperparameters } from "@/server/experiments/schemas";
import { INT32_MAX, parsePathId } from "@/server/http/input";

/**
 * Mapper for the old recognition backend's training API (seed 003, `/train`): string `job_id`, the
 * job dict its mock kept (`status`, `progress` 0..100, `metrics` with `current_epoch`,
 * `total_epochs`, `loss`, `accuracy`, `last_updated`) — now filled by real runs. FastAPI errors
 * `{detail}` (rendered by studio-v1's renderer, the same framework's shape).
 */

export const RECOGNITION_MESSAGES = { started: "训练任务已启动", stopped: "训练任务已停止" } as const;


type JobSource = Pick<
  Experiment,
  "id" | "model" | "architectureId" | "status" | "progress" | "currentEpoch" | "totalEpochs" | "latestMetrics" | "error" | "createdAt" | "updatedAt"
>;

/** One training job; accuracy is a fraction (top-1, or mAP50-95 for detectors), as the mock's was. */
export function recognitionJob(experiment: JobSource) {
  const values = experiment.latestMetrics;
  const loss = lossTotal(values, "train");
  const accuracy = values.top1_acc ?? values.val_acc ?? values.mAP50_95;
  return {
    job_id: String(experiment.id),
    model_id: experiment.model ?? `architecture:${experiment.architectureId}`,
    status: legacyStatus(experiment.status),
    progress: round(experiment.progress, 1),
    metrics: {
      current_epoch: experiment.currentEpoch,
      total_epochs: experiment.totalEpochs,
      ...(loss !== null ? { loss: round(loss, 4) } : {}),
      ...(accuracy !== undefined ? { accuracy: round(accuracy, 4) } : {}),
      last_updated: pythonIsoTime(experiment.updatedAt),
    },
    ...(experiment.error ? { error: experiment.error } : {}),
    created_at: pythonIsoTime(experiment.createdAt),
  };
}

const positiveInt = (field: string) =>
  z.number({ error: `${field} must be a number` }).int({ error: `${field} must be an integer` }).positive({ error: `${field} must be > 0` }).max(INT32_MAX, { error: `${field} must be ≤ ${INT32_MAX}` });

export const startBody = z.object({
  model_id: z.string({ error: "model_id is required" }).trim().min(1, { error: "model_id is required" }),
  epochs: givenHyperparameters.shape.epochs,
  /** Ours: the dialect had no datasets; needed when the default project holds more than one. */
  dataset_id: positiveInt("dataset_id").optional(),
  batch_size: givenHyperparameters.shape.batch,
  learning_rate: givenHyperparameters.shape.lr0,
  image_size: givenHyperparameters.shape.imgsz,
  device: z.string().trim().min(1).optional(),
  name: experimentName.optional(),
});

export interface RecognitionStart {
  model: string;
  datasetId?: number;
  device?: string;
  name?: string;
  hyperparameters: Record<string, unknown>;
}

export function parseRecognitionStart(body: unknown): RecognitionStart {
  const input = parseInput(startBody, body);
  const hyperparameters = engineHyperparameters({ epochs: input.epochs, batch_size: input.batch_size, learning_rate: input.learning_rate, image_size: input.image_size });
  return { model: input.model_id, datasetId: input.dataset_id, device: input.device, name: input.name, hyperparameters };
}

export function parseRecognitionJobId(value: string): number {
  return parsePathId(value, "Training job");
}
