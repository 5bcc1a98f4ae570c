import { z } from "zod";
import type { Caller } from "@/server/context";
import type { SystemLogRow } from "@/server/system/logs";
import type { HostStats, SampleFacts } from "@/server/system/stats";
import { Invalid, parseInput } from "@/server/errors";
import { engineHyperparameters, isoSecondsZ, lossTotal, round, type Experiment, type ExperimentLog, type ExperimentMetricPoint, type ExperimentStatus } from "@/server/compat/shared/experiment-common";
import { experimentName, experimentStatus, renameExperimentInput, resumeExperimentInput } from "@/server/experiments/schemas";
import { INT32_MAX, parsePathId } from "@/server/http/input";

/**
 * Mapper for the old studio backend (seed 002, `/api/v1`): integer ids, the studio's own status
 * names; errors in FastAPI's `{ detail, errors? }` (server/http/rest-error.ts).
 */

export function studioV1User(caller: Caller) {
  return {
    id: caller.userId,
    email: caller.email,
    name: caller.name,
    role: caller.role,
    team: { id: caller.teamId, name: caller.teamName },
  };
}

// ---- experiments (§2.5) and the training stream (§3.2) ----

/** The studio's own status names: this backend was its predecessor and used the same words. */
export function studioV1Experiment(experiment: Experiment) {
  return {
    id: experiment.id,
    name: experiment.name,
    task: experiment.task,
    status: experiment.status,
    dataset_id: experiment.datasetId,
    model_arch_id: experiment.architectureId,
    model: experiment.model,
    aug_id: experiment.augmentationId,
    hyperparams: experiment.hyperparameters,
    device: experiment.deviceRequested,
    backend: experiment.backend,
    progress: round(experiment.progress, 1),
    current_epoch: experiment.currentEpoch,
    total_epochs: experiment.totalEpochs,
    metrics: experiment.latestMetrics,
    best_metrics: experiment.bestMetrics,
    error: experiment.error,
    created_at: isoSecondsZ(experiment.createdAt),
    start_time: isoSecondsZ(experiment.startedAt),
    end_time: isoSecondsZ(experiment.finishedAt),
  };
}

/** The figure charts plot as "the" validation metric: top-1 accuracy, or mAP50-95 for detectors. */
function validationMetric(values: Record<string, number>): number | null {
  return values.top1_acc ?? values.mAP50_95 ?? values.val_acc ?? null;
}

/** One chart point, the shape of a `metrics_update` packet's `data`. */
export function studioV1MetricPoint(values: Record<string, number>, epoch: number) {
  return { epoch, train_loss: lossTotal(values, "train"), val_loss: lossTotal(values, "val"), val_metric: validationMetric(values) };
}

/** `GET /experiments/{id}/metrics`: one point per finished epoch, oldest first. */
export function studioV1MetricHistory(points: Pick<ExperimentMetricPoint, "epoch" | "step" | "values">[]) {
  return points
    .filter((point) => point.step === 0)
    .sort((a, b) => a.epoch - b.epoch)
    .map((point) => studioV1MetricPoint(point.values, point.epoch));
}

/**
 * §2.1 `GET /system/stats`: the document shows `{gpu: {util, temp}, cpu: {…}}`; the rest is what
 * `/ws/system` reports too, for the training host sampled (`host`). GPU figures are null on a host
 * without one (`gpu.unavailable` says why), every figure is null when no host is sampled (`reason`).
 */
export function studioV1SystemStats(stats: HostStats, reading: { host: string | null; facts: SampleFacts | null; reason: string | null }) {
  const { facts } = reading;
  const gb = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;
  return {
    gpu: { util: stats.gpu_util, temp: stats.gpu_temp, vram_used: stats.vram_used, vram_total: stats.vram_total, unavailable: facts?.gpuUnavailable ?? null },
    cpu: { util: stats.cpu_load, cores: facts?.cores ?? null },
    memory: { used: facts ? gb(facts.memoryUsed) : null, total: facts ? gb(facts.memoryTotal) : null },
    disk: { usage: stats.disk_usage },
    host: reading.host,
    sampled_at: facts ? isoSecondsZ(facts.at) : null,
    reason: reading.reason,
  };
}

/** §2.1 `GET /system/logs`: `[{time, level, msg}]`, levels as the training log packets write them. */
export function studioV1SystemLog(row: Pick<SystemLogRow, "at" | "level" | "message">) {
  return { time: isoSecondsZ(row.at), level: row.level.toUpperCase(), msg: row.message };
}

/**
 * Packets of `/ws/training/{id}`, `{type, data}` as §3.2 shows them. Log packets also carry the
 * line's `seq` beside them, so a reconnecting client can ask for `?since=<seq>`.
 */
export type StudioV1TrainingPacket =
  | { type: "log"; data: string; seq: number }
  | { type: "metrics_update"; data: ReturnType<typeof studioV1MetricPoint> }
  | { type: "status_change"; data: { status: ExperimentStatus; end_time: string | null } };

export function studioV1LogPacket(log: Pick<ExperimentLog, "seq" | "level" | "message">): StudioV1TrainingPacket {
  return { type: "log", data: `[${log.level.toUpperCase()}] ${log.message}`, seq: log.seq };
}

export function studioV1MetricsPacket(point: Pick<ExperimentMetricPoint, "epoch" | "values">): StudioV1TrainingPacket {
  return { type: "metrics_update", data: studioV1MetricPoint(point.values, point.epoch) };
}

export function studioV1StatusPacket(experiment: Pick<Experiment, "status" | "finishedAt">): StudioV1TrainingPacket {
  return { type: "status_change", data: { status: experiment.status, end_time: isoSecondsZ(experiment.finishedAt) } };
}

const positiveId = (field: string) =>
  z.number({ error: `${field} must be an integer id` }).int({ error: `${field} must be an integer id` }).positive({ error: `${field} must be a positive id` }).max(INT32_MAX, { error: `${field} names nothing` });

export const createExperimentBody = z.object({
  name: experimentName,
  task: z.enum(["classify", "detect"], { error: "task must be classify or detect" }).optional(),
  dataset_id: positiveId("dataset_id"),
  /** An architecture's id, or the name of a zoo model. */
  model_arch_id: z.union([positiveId("model_arch_id"), z.string().trim().min(1)], { error: "model_arch_id must be an architecture id or a zoo model name" }),
  aug_id: positiveId("aug_id").nullable().optional(),
  hyperparams: z.record(z.string(), z.unknown(), { error: "hyperparams must be an object" }).optional(),
  device: z.string().trim().min(1).optional(),
  /** Ours: the library entry to fine-tune from (also `hyperparams.weights`). */
  weights_id: positiveId("weights_id").optional(),
});

export interface StudioV1CreateExperiment {
  name: string;
  task?: "classify" | "detect";
  datasetId: number;
  architectureId?: number;
  model?: string;
  augmentationId?: number;
  device?: string;
  hyperparameters: Record<string, unknown>;
}

export function parseStudioV1CreateExperiment(body: unknown): StudioV1CreateExperiment {
  const input = parseInput(createExperimentBody, body);
  const hyperparameters = engineHyperparameters(input.hyperparams ?? {});
  const device = input.device ?? (typeof hyperparameters.device === "string" ? hyperparameters.device : undefined);
  delete hyperparameters.device;
  // Ids travel as strings in some clients' JSON: "12" names entry 12.
  if (typeof hyperparameters.weights === "string" && /^\d+$/.test(hyperparameters.weights)) hyperparameters.weights = Number(hyperparameters.weights);
  if (input.weights_id !== undefined) hyperparameters.weights = input.weights_id;
  return {
    name: input.name,
    task: input.task,
    datasetId: input.dataset_id,
    ...(typeof input.model_arch_id === "number" ? { architectureId: input.model_arch_id } : { model: input.model_arch_id }),
    augmentationId: input.aug_id ?? undefined,
    device,
    hyperparameters,
  };
}

/** The studio's own rule for names (at most 120 characters), so every face refuses the same. */
export const renameBody = renameExperimentInput.pick({ name: true });

export function parseStudioV1Rename(body: unknown): { name: string } {
  return parseInput(renameBody, body);
}

export const controlBody = z.discriminatedUnion(
  "action",
  [
    z.object({ action: z.literal("stop") }),
    z.object({ action: z.literal("pause") }),
    /** Ours: what may change before resuming. */
    resumeExperimentInput.omit({ id: true }).extend({ action: z.literal("resume") }),
  ],
  { error: 'action must be "stop", "pause" or "resume"' },
);

export type StudioV1Control = z.output<typeof controlBody>;

export function parseStudioV1Control(body: unknown): StudioV1Control {
  return parseInput(controlBody, body);
}

export function parseStudioV1Id(value: string, what: string): number {
  return parsePathId(value, what);
}

export function parseStudioV1StatusFilter(value: string | null): ExperimentStatus | undefined {
  if (value === null || value === "") return undefined;
  const status = experimentStatus.safeParse(value);
  if (!status.success) throw new Invalid(status.error.issues[0].message, { status: [`unknown status ${value}`] });
  return status.data;
}
