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

/** A loss figure for one epoch: `train_loss`, or the sum of a detector's box/cls/dfl training losses. */
export function epochLoss(values: Record<string, number>): number | null {
  if (typeof values.train_loss === "number") return values.train_loss;
  const parts = Object.entries(values).filter(([key]) => /^train_\w+_loss$/.test(key));
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
export function legacyStatus(status: ExperimentStatus): string {
  switch (status) {
    case "created":
    case "queued":
      return "pending";
    case "running":
    case "pausing":
    case "stopping":
      return "running";
    case "paused":
    case "stopped":
    case "completed":
    case "failed":
      return status;
  }
}

/** Old hyperparameter names (epochs, batch size, learning rate, image size) in the engine's terms. */
export function engineHyperparameters(old: { epochs?: number; batch_size?: number; learning_rate?: number; image_size?: number }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (old.epochs !== undefined) out.epochs = old.epochs;
  if (old.batch_size !== undefined) out.batch = old.batch_size;
  if (old.learning_rate !== undefined) out.lr0 = old.learning_rate;
  if (old.image_size !== undefined) out.imgsz = old.image_size;
  return out;
}
