import { z } from "zod";
import { invalidFromZod, parseInput } from "@/server/errors";
import { engineHyperparameters, legacyStatus, lossTotal, pythonIsoTime, round, type Experiment, type ExperimentLog } from "@/server/compat/shared/experiment-common";
import { experimentName, givenHyperparameters } from "@/server/experiments/schemas";
import { INT32_MAX, parsePathId } from "@/server/http/input";

/**
 * Mapper for the old training-metrics service (seed 001, `/api/v2/training/…`): string `task_id`,
 * `current_epoch`/`total_epochs`, `latest_metrics` with accuracies in percent, and a log stream
 * of Server-Sent Events whose entries carry `level`, `message`, `stage` and optional `metrics`.
 * Errors use the FastAPI shape `{detail}` with the studio-v1 status codes (the same family of backends).
 */

/** Accuracies the service reported in percent (`Train Accuracy: 82.45%` became `train_acc: 82.45`). */
const PERCENT_KEYS = ["train_acc", "val_acc", "top1_acc", "top3_acc", "top5_acc", "best_acc"] as const;
const FRACTION_KEYS = ["macro_f1", "micro_f1", "precision", "recall"] as const;

/**
 * The engine's metric names and scales → the service's `TrainingMetrics` fields. Only figures the
 * run has are present (the service's fields were optional). Detection runs give their summed losses
 * as `train_loss`/`val_loss` and mAP50-95 as `mAP`.
 */
export function trainingMetricsValues(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const trainLoss = lossTotal(values, "train");
  if (trainLoss !== null) out.train_loss = round(trainLoss, 4);
  const valLoss = lossTotal(values, "val");
  if (valLoss !== null) out.val_loss = round(valLoss, 4);
  for (const key of PERCENT_KEYS) if (typeof values[key] === "number") out[key] = round(values[key] * 100, 2);
  for (const key of FRACTION_KEYS) if (typeof values[key] === "number") out[key] = round(values[key], 4);
  if (typeof values.mAP50_95 === "number") out.mAP = round(values.mAP50_95, 4);
  if (typeof values.learning_rate === "number") out.learning_rate = values.learning_rate;
  return out;
}

type StatusSource = Pick<
  Experiment,
  "id" | "status" | "progress" | "deviceRequested" | "currentEpoch" | "totalEpochs" | "latestMetrics" | "error" | "createdAt" | "updatedAt"
>;

/** `GET /api/v2/training/{task_id}` (the service's `TaskResponse`). */
export function trainingMetricsTask(experiment: StatusSource) {
  const metrics = trainingMetricsValues(experiment.latestMetrics);
  return {
    task_id: String(experiment.id),
    task_type: "training" as const,
    status: legacyStatus(experiment.status),
    progress: Math.round(experiment.progress),
    device: experiment.deviceRequested,
    current_epoch: experiment.currentEpoch,
    total_epochs: experiment.totalEpochs,
    latest_metrics: Object.keys(metrics).length ? { epoch: experiment.currentEpoch, total_epochs: experiment.totalEpochs, ...metrics } : {},
    ...(experiment.error ? { error: experiment.error } : {}),
    created_at: pythonIsoTime(experiment.createdAt),
    updated_at: pythonIsoTime(experiment.updatedAt),
  };
}

/**
 * One entry of the log stream (`add_log`'s dict). A line's metrics were parsed from its own text, so
 * they already have the service's names and scales (`Train Accuracy: 82.45%` → `train_acc: 82.45`).
 */
export function trainingMetricsLogEntry(log: Pick<ExperimentLog, "at" | "level" | "message" | "stage" | "epoch" | "metrics">, totalEpochs: number) {
  const metrics = log.metrics && Object.keys(log.metrics).length ? log.metrics : null;
  return {
    timestamp: pythonIsoTime(log.at),
    level: log.level.toUpperCase(),
    message: log.message,
    ...(metrics ? { metrics: { ...(log.epoch !== null ? { epoch: log.epoch, total_epochs: totalEpochs } : {}), ...metrics } } : {}),
    stage: log.stage,
  };
}

/** One Server-Sent Event: the id is the log's sequence number, so `Last-Event-ID` resumes after it. */
export function sseFrame(seq: number, data: unknown): string {
  return `id: ${seq}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: keeps proxies from closing an idle stream; EventSource ignores it. */
export const SSE_KEEPALIVE = ": keepalive\n\n";
/** The first bytes of every stream, sent with the headers. */
export const SSE_OPENED = ": connected\n\n";

/** Where a (re)connecting stream starts: after `Last-Event-ID`, else after `?since=`, else from the beginning. */
export function sseResumeAfter(lastEventId: string | null, since: string | null): number {
  for (const value of [lastEventId, since]) {
    if (value !== null && value.trim() !== "") {
      if (!/^\d+$/.test(value.trim())) throw invalidFromZod([{ path: [value === lastEventId ? "Last-Event-ID" : "since"], message: "must be a log sequence number" }]);
      return Number(value.trim());
    }
  }
  return 0;
}

export function parseTrainingMetricsTaskId(value: string): number {
  return parsePathId(value, "Task");
}

const positiveInt = (field: string) =>
  z.number({ error: `${field} must be a number` }).int({ error: `${field} must be an integer` }).positive({ error: `${field} must be > 0` }).max(INT32_MAX, { error: `${field} must be ≤ ${INT32_MAX}` });
const folder = (field: string) => z.string({ error: `${field} is required` }).trim().min(1, { error: `${field} is required` });

export const startBody = z.object({
  model: z.string({ error: "model is required" }).trim().min(1, { error: "model is required" }),
  num_classes: positiveInt("num_classes").optional(),
  train_path: folder("train_path"),
  val_path: folder("val_path").optional(),
  save_path: folder("save_path").optional(),
  num_epochs: givenHyperparameters.shape.epochs,
  batch_size: givenHyperparameters.shape.batch,
  learning_rate: givenHyperparameters.shape.lr0,
  image_size: givenHyperparameters.shape.imgsz,
  device: z.string({ error: "device must be a string" }).trim().min(1).optional(),
  task_name: experimentName.optional(),
});

export interface TrainingMetricsStart {
  model: string;
  numClasses?: number;
  trainPath: string;
  valPath?: string;
  savePath?: string;
  device?: string;
  name?: string;
  hyperparameters: Record<string, unknown>;
}

export function parseTrainingMetricsStart(body: unknown): TrainingMetricsStart {
  const input = parseInput(startBody, body);
  const hyperparameters = engineHyperparameters({ epochs: input.num_epochs, batch_size: input.batch_size, learning_rate: input.learning_rate, image_size: input.image_size });
  return {
    model: input.model,
    numClasses: input.num_classes,
    trainPath: input.train_path,
    valPath: input.val_path,
    savePath: input.save_path,
    device: input.device,
    name: input.task_name,
    hyperparameters,
  };
}
