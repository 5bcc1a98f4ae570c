import path from "node:path";
import type { ExperimentRow, LogRow, MetricRow } from "@/server/experiments/queries";
import { CHECKPOINT_EXTENSION } from "@/server/ml/train/checkpoint";

/** What the old training dialects render, straight from the experiments domain's rows. */
export type Experiment = Omit<ExperimentRow, "leaseToken">;
export type ExperimentLog = LogRow;
export type ExperimentMetricPoint = MetricRow;
export type ExperimentStatus = Experiment["status"];

/**
 * A time as the documents of seeds 000, 001 and 003 print it (`2024-09-15T10:00:00`, what their
 * Python backends' naive `isoformat()` sent), in UTC.
 */
export function pythonIsoTime(date: Date): string;
export function pythonIsoTime(date: Date | null): string | null;
export function pythonIsoTime(date: Date | null): string | null {
  return date ? date.toISOString().slice(0, 19) : null;
}

/** ISO 8601 to the second, `YYYY-MM-DDTHH:mm:ssZ` (seed 002 §1). */
export function isoSecondsZ(date: Date): string;
export function isoSecondsZ(date: Date | null): string | null;
export function isoSecondsZ(date: Date | null): string | null {
  return date ? `${date.toISOString().slice(0, 19)}Z` : null;
}

/** The run folder relative to the storage root (`runs/<project>/<experiment>`), as the studio stores files. */
export function relativeRunDir(runDir: string | null, dataDir: string): string | null {
  if (!runDir) return null;
  const absolute = path.resolve(dataDir, runDir);
  const relative = path.relative(dataDir, absolute);
  return relative.startsWith("..") ? absolute : relative.split(path.sep).join("/");
}

/** The best checkpoint inside a run folder; null until an epoch has produced one. */
export function bestWeightsFile(experiment: Pick<Experiment, "runDir" | "bestEpoch">, dataDir: string): string | null {
  const dir = relativeRunDir(experiment.runDir, dataDir);
  if (!dir || experiment.bestEpoch === null) return null;
  return `${dir}/weights/best${CHECKPOINT_EXTENSION}`;
}

/** One epoch's loss on a split: `train_loss`/`val_loss`, or the sum of a detector's box/cls/dfl losses; null when unmeasured. */
export function lossTotal(values: Record<string, number>, split: "train" | "val"): number | null {
  const whole = values[`${split}_loss`];
  if (typeof whole === "number") return whole;
  const part = new RegExp(`^${split}_\\w+_loss$`);
  const parts = Object.entries(values).filter(([key]) => part.test(key));
  return parts.length ? parts.reduce((sum, [, value]) => sum + value, 0) : null;
}

/** Rounds for display without turning figures into strings. */
export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * The five-word status most old backends knew (pending, running, paused, stopped, completed, failed):
 * ours in between (pausing, stopping) still read as running, so old clients keep polling.
 */
const LEGACY_STATUS: Record<ExperimentStatus, string> = {
  created: "pending",
  queued: "pending",
  running: "running",
  pausing: "running",
  stopping: "running",
  paused: "paused",
  stopped: "stopped",
  completed: "completed",
  failed: "failed",
};

export function legacyStatus(status: ExperimentStatus): string {
  return LEGACY_STATUS[status];
}

/** Hyper-parameter spellings the old clients used → the engine's names. */
const HYPERPARAMETER_ALIASES: Record<string, string> = { batch_size: "batch", lr: "lr0", learning_rate: "lr0", img_size: "imgsz", image_size: "imgsz" };

/** Old clients' hyper-parameters in the engine's names (`batch_size` → `batch`, `learning_rate` → `lr0` …); unset ones are left out. */
export function engineHyperparameters(old: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(old).flatMap(([key, value]) => (value === undefined ? [] : [[HYPERPARAMETER_ALIASES[key] ?? key, value]])));
}
