import { DomainError, Invalid, NotFound, RateLimited, TooLarge, Unavailable, Unauthorized, Forbidden } from "@/server/errors";
import { bestWeightsFile, relativeRunDir, round, type Experiment, type ExperimentLog, type ExperimentStatus } from "@/server/compat/shared/experiment-common";
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

const TASK_STATUS_STATES: Record<ExperimentStatus, TaskStatusState> = {
  created: "pending",
  queued: "pending",
  running: "progress",
  pausing: "progress",
  // A paused run is still under way: it keeps its progress and will resume.
  paused: "progress",
  stopping: "progress",
  completed: "success",
  // A stopped run will never succeed: the document's only word for that is failure.
  stopped: "failure",
  failed: "failure",
};

export function taskStatusState(status: ExperimentStatus): TaskStatusState {
  return TASK_STATUS_STATES[status];
}

const metric = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? round(value, 4) : null);

/** F1 = 2PR / (P + R) of the unrounded values, 0 when both are 0; null when either was never measured. */
function f1Score(precision: unknown, recall: unknown): number | null {
  if (typeof precision !== "number" || typeof recall !== "number") return null;
  return precision + recall > 0 ? round((2 * precision * recall) / (precision + recall), 4) : 0;
}

/**
 * The document's five final metrics for a detector, always all five (null only for one the run never
 * measured); a classifier's accuracy fields beside the same precision / recall / F1 names.
 */
export function taskStatusFinalMetrics(values: Record<string, number>, task: "classify" | "detect"): Record<string, number | null> {
  const precision = metric(values.precision);
  const recall = metric(values.recall);
  const f1 = f1Score(values.precision, values.recall);
  if (task === "detect") return { mAP50: metric(values.mAP50), "mAP50-95": metric(values.mAP50_95), precision, recall, f1_score: f1 };
  return { top1_acc: metric(values.top1_acc), top5_acc: metric(values.top5_acc), precision, recall, f1_score: f1 ?? metric(values.macro_f1) };
}

type StatusSource = Pick<Experiment, "id" | "task" | "status" | "progress" | "currentEpoch" | "totalEpochs" | "bestMetrics" | "latestMetrics" | "error" | "runDir" | "bestEpoch">;

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
            final_metrics: taskStatusFinalMetrics(metrics, experiment.task),
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

/** The document writes every message in Chinese; so do its errors. */
function errorMessage(err: DomainError): string {
  if (err instanceof Unauthorized) return "未授权：请在请求头中发送 Authorization: Bearer <API 密钥或令牌>";
  if (err instanceof Forbidden) return "没有权限执行此操作";
  if (err instanceof Invalid) return "请求参数错误";
  if (err instanceof TooLarge) return "请求体过大";
  if (err instanceof RateLimited) return "请求过于频繁，请稍后再试";
  if (err instanceof Unavailable) return "服务暂时不可用，请稍后重试";
  return "服务器内部错误";
}

function errorStatus(err: DomainError): number {
  if (err instanceof Invalid) return 400;
  if (err instanceof Unauthorized) return 401;
  if (err instanceof Forbidden) return 403;
  if (err instanceof TooLarge) return 413;
  if (err instanceof RateLimited) return 429;
  if (err instanceof Unavailable) return 503;
  return 500;
}

export const UNKNOWN_TASK_MESSAGE = "任务不存在";

/**
 * Errors in the document's envelope. An unknown task (or another team's) is a failure the way the
 * document describes failures: code 1, HTTP 500, `data.status` failure with the reason.
 */
export function taskStatusError(err: DomainError, taskId?: string): Response {
  if (err instanceof NotFound) {
    return Response.json({ code: 1, message: TASK_STATUS_MESSAGES.failure, data: { task_id: taskId ?? null, status: "failure", error: UNKNOWN_TASK_MESSAGE } }, { status: 500 });
  }
  return Response.json({ code: 1, message: errorMessage(err), data: null }, { status: errorStatus(err) });
}

export function parseTaskStatusId(value: string): number {
  return parsePathId(value, "Task", `${UNKNOWN_TASK_MESSAGE}: ${value}`);
}
