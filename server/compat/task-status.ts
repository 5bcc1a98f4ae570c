import { DomainError, Invalid, NotFound, RateLimited, TooLarge, Unauthorized, Forbidden } from "@/server/errors";
import { bestWeightsFile, relativeRunDir, round, type Experiment, type ExperimentLog, type ExperimentStatus } from "./experiment-common";
import { parsePathId } from "@/server/http/input";

/**
 * Mapper for the old task-status endpoint (seed 004, `/task_status/<task_id>`): `{code, message, data}`,
 * `data.status` one of pending/progress/success/failure, progress as `"25.0%"`, `final_metrics` on
 * success, and code 1 with HTTP 500 on failure.
 */

export const TASK_STATUS_MESSAGES = {
  pending: "任务等待中",
  progress: "正在训练",
  paused: "训练已暂停",
  success: "训练完成",
  failure: "训练失败",
} as const;

export type TaskStatusState = "pending" | "progress" | "success" | "failure";

export function taskStatusState(status: ExperimentStatus): TaskStatusState {
  switch (status) {
    case "created":
    case "queued":
      return "pending";
    // A paused run is still under way: it keeps its progress and will resume.
    case "running":
    case "pausing":
    case "paused":
    case "stopping":
      return "progress";
    case "completed":
      return "success";
    case "stopped":
    case "failed":
      return "failure";
  }
}

/** Ultralytics' final metric names; classification runs report what they have under their own names. */
export function taskStatusFinalMetrics(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const detection = typeof values.mAP50 === "number" || typeof values.mAP50_95 === "number";
  if (detection) {
    if (typeof values.mAP50 === "number") out.mAP50 = round(values.mAP50, 4);
    if (typeof values.mAP50_95 === "number") out["mAP50-95"] = round(values.mAP50_95, 4);
  } else {
    for (const key of ["top1_acc", "top5_acc"]) if (typeof values[key] === "number") out[key] = round(values[key], 4);
  }
  const { precision, recall } = values;
  if (typeof precision === "number") out.precision = round(precision, 4);
  if (typeof recall === "number") out.recall = round(recall, 4);
  const f1 = typeof precision === "number" && typeof recall === "number" && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : values.macro_f1;
  if (typeof f1 === "number") out.f1_score = round(f1, 4);
  return out;
}

type StatusSource = Pick<Experiment, "id" | "status" | "progress" | "currentEpoch" | "totalEpochs" | "bestMetrics" | "latestMetrics" | "error" | "runDir" | "bestEpoch">;

export interface TaskStatusReply {
  httpStatus: 200 | 500;
  body: { code: 0 | 1; message: string; data: Record<string, unknown> };
}

/**
 * The reply for one task. `stage` is the stage of the run's latest log line (`training` before any).
 * Paths are relative to the storage root, like Ultralytics' `runs/…`.
 */
export function taskStatusReply(experiment: StatusSource, latestStage: ExperimentLog["stage"] | null, dataDir: string): TaskStatusReply {
  const taskId = String(experiment.id);
  const state = taskStatusState(experiment.status);
  if (state === "pending") return { httpStatus: 200, body: { code: 0, message: TASK_STATUS_MESSAGES.pending, data: { task_id: taskId, status: "pending" } } };
  if (state === "progress") {
    return {
      httpStatus: 200,
      body: {
        code: 0,
        message: experiment.status === "paused" ? TASK_STATUS_MESSAGES.paused : TASK_STATUS_MESSAGES.progress,
        data: {
          task_id: taskId,
          status: "progress",
          result: {
            stage: experiment.status === "paused" ? "paused" : (latestStage ?? "training"),
            current_epoch: experiment.currentEpoch,
            total_epochs: experiment.totalEpochs,
            progress: `${experiment.progress.toFixed(1)}%`,
          },
        },
      },
    };
  }
  if (state === "success") {
    const metrics = Object.keys(experiment.bestMetrics).length ? experiment.bestMetrics : experiment.latestMetrics;
    return {
      httpStatus: 200,
      body: {
        code: 0,
        message: TASK_STATUS_MESSAGES.success,
        data: {
          task_id: taskId,
          status: "success",
          result: {
            status: "success",
            task_id: taskId,
            weights_path: bestWeightsFile(experiment, dataDir),
            project_path: relativeRunDir(experiment.runDir, dataDir),
            final_metrics: taskStatusFinalMetrics(metrics),
          },
        },
      },
    };
  }
  // A stopped run will never succeed: the dialect's only word for that is failure.
  const cause = experiment.error ?? (experiment.status === "stopped" ? "训练任务已停止" : TASK_STATUS_MESSAGES.failure);
  return {
    httpStatus: 500,
    body: {
      code: 1,
      message: TASK_STATUS_MESSAGES.failure,
      data: { task_id: taskId, status: "failure", error: cause },
    },
  };
}

function errorStatus(err: DomainError): number {
  if (err instanceof Invalid) return 400;
  if (err instanceof Unauthorized) return 401;
  if (err instanceof Forbidden) return 403;
  if (err instanceof NotFound) return 404;
  if (err instanceof TooLarge) return 413;
  if (err instanceof RateLimited) return 429;
  return 500;
}

/** Errors in the same envelope: code 1, the message, no data. */
export function taskStatusError(err: DomainError): Response {
  return Response.json({ code: 1, message: err.message, data: null }, { status: errorStatus(err) });
}

export function parseTaskStatusId(value: string): number {
  return parsePathId(value, "Task", `任务不存在: ${value}`);
}
