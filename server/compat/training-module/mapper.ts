import { z } from "zod";
import { splitRatiosInput, SPLIT_SUM_MESSAGE } from "@/server/datasets/schemas";
import { Conflict, DomainError, Forbidden, Invalid, invalidFromZod, NotFound, parseInput, RateLimited, TooLarge, Unauthorized, Unavailable } from "@/server/errors";
import { experimentName, givenHyperparameters, hyperparametersSchema } from "@/server/experiments/schemas";
import { INT32_MAX, parsePathId } from "@/server/http/input";
import { ultralyticsAugmentation } from "@/server/ml/augment/foreign";
import {
  bestWeightsFile,
  engineHyperparameters,
  legacyStatus,
  lossTotal,
  pythonIsoTime,
  type Experiment,
  type ExperimentMetricPoint,
} from "@/server/compat/shared/experiment-common";

/**
 * Mapper for the old training module (seed 000, `/training/…`): `{success: true, …}` bodies,
 * errors `{success: false, error}` with 400/401/404/409, integer `task_id`, tasks addressed by
 * `project_name`, Ultralytics-style names (`model_type`, `batch_size`, `learning_rate`, `image_size`).
 */

export const TRAINING_MODULE_MESSAGES = {
  started: "训练任务已启动",
  stopped: "训练任务已停止",
  deleted: "训练任务已删除",
} as const;

export function trainingModuleStatusCode(err: DomainError): number {
  if (err instanceof Invalid) return 400;
  if (err instanceof Unauthorized) return 401;
  if (err instanceof Forbidden) return 403;
  if (err instanceof NotFound) return 404;
  if (err instanceof Conflict) return 409;
  if (err instanceof TooLarge) return 413;
  if (err instanceof Unavailable) return 503;
  if (err instanceof RateLimited) return 429;
  return 500;
}

export function trainingModuleError(err: DomainError): Response {
  return Response.json({ success: false, error: err.message }, { status: trainingModuleStatusCode(err) });
}


type TaskSource = Pick<Experiment, "id" | "name" | "model" | "architectureId" | "status" | "progress" | "createdAt">;

function modelType(source: { model: string | null; architectureId: number | null }): string | null {
  if (source.model !== null) return source.model;
  return source.architectureId === null ? null : `architecture:${source.architectureId}`;
}

/** A `model_type` as this module names models: a zoo name, or `architecture:<id>` for a studio architecture. */
export function parseModelType(value: string): { model: string } | { architectureId: number } {
  const architecture = /^architecture:(\d+)$/.exec(value);
  return architecture ? { architectureId: Number(architecture[1]) } : { model: value };
}

/** One row of `GET /training/tasks/<project>`. */
export function trainingModuleTaskSummary(experiment: TaskSource) {
  return {
    id: experiment.id,
    task_name: experiment.name,
    model_type: modelType(experiment) ?? "",
    status: legacyStatus(experiment.status),
    progress: Math.round(experiment.progress),
    created_at: pythonIsoTime(experiment.createdAt),
  };
}

/** Ultralytics' metric names, as this module's clients show them (`mAP50-95`, not `mAP50_95`). */
function metricNames(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key === "mAP50_95" ? "mAP50-95" : key, value]));
}

/** `GET /training/task_status/<project>/<id>`: the task with metrics and one log point per finished epoch. */
export function trainingModuleTaskDetail(
  experiment: TaskSource & Pick<Experiment, "startedAt" | "error" | "runDir" | "bestEpoch" | "latestMetrics">,
  epochPoints: Pick<ExperimentMetricPoint, "epoch" | "step" | "values" | "createdAt">[],
  dataDir: string,
) {
  const weights = bestWeightsFile(experiment, dataDir);
  return {
    ...trainingModuleTaskSummary(experiment),
    started_at: pythonIsoTime(experiment.startedAt),
    error_message: experiment.error,
    // Relative to the storage root, like weights_path in seed 004: never a server path.
    model_path: weights,
    metrics: metricNames(experiment.latestMetrics),
    logs: epochPoints
      .filter((point) => point.step === 0)
      .map((point) => ({ epoch: point.epoch, loss: lossTotal(point.values, "train"), timestamp: pythonIsoTime(point.createdAt) })),
  };
}

export interface TrainingModuleConfigSource {
  id: number;
  name: string;
  hyperparameters: Record<string, unknown>;
  model: string | null;
  architectureId: number | null;
  createdAt: Date;
}

/** One row of `GET /training/configs/<project>`; `model_type` is null when the config names no model. */
export function trainingModuleConfig(config: TrainingModuleConfigSource) {
  const hp = config.hyperparameters;
  return {
    id: config.id,
    config_name: config.name,
    model_type: modelType(config),
    epochs: typeof hp.epochs === "number" ? hp.epochs : null,
    batch_size: typeof hp.batch === "number" ? hp.batch : null,
    learning_rate: typeof hp.lr0 === "number" ? hp.lr0 : null,
    created_at: pythonIsoTime(config.createdAt),
  };
}

/** `GET /training/available_models`: the zoo and this host's devices. */
export function trainingModuleAvailableModels(
  models: { name: string; description: string }[],
  devices: { device: string; description: string }[],
) {
  return {
    success: true as const,
    models: models.map((m) => ({ name: m.name, description: m.description })),
    devices: devices.map((d) => ({ name: d.device, description: d.description })),
  };
}

// ---- requests ----


const projectName = z.string({ error: "project_name is required" }).trim().min(1, { error: "project_name is required" });
const positiveInt = (field: string) =>
  z.number({ error: `${field} must be a number` }).int({ error: `${field} must be an integer` }).positive({ error: `${field} must be > 0` }).max(INT32_MAX, { error: `${field} must be ≤ ${INT32_MAX}` });
const ratio = (field: string) => z.number({ error: `${field} must be a number` }).min(0, { error: `${field} must be ≥ 0` }).max(1, { error: `${field} must be ≤ 1` });
/** Task ids arrive as numbers, or as digit strings from form-minded clients. */
const taskId = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)], { error: "task_id must be an integer" }).pipe(
  z.number().int({ error: "task_id must be an integer" }).positive({ error: "task_id must be a positive integer" }).max(INT32_MAX, { error: "task_id names no task" }),
);

const engineOptimizers = new Map(["auto", "SGD", "Adam", "AdamW", "RMSProp"].map((name) => [name.toLowerCase(), name]));
const optimizer = z
  .string({ error: "optimizer must be a string" })
  .transform((value, ctx) => {
    const name = engineOptimizers.get(value.toLowerCase());
    if (!name) ctx.addIssue({ code: "custom", message: `optimizer must be one of ${[...engineOptimizers.values()].join(", ")}` });
    return name ?? z.NEVER;
  });

const hyperparameterFields = {
  model_type: z.string({ error: "model_type must be a string" }).trim().min(1, { error: "model_type is required" }),
  epochs: givenHyperparameters.shape.epochs,
  batch_size: givenHyperparameters.shape.batch,
  learning_rate: givenHyperparameters.shape.lr0,
  image_size: givenHyperparameters.shape.imgsz,
  device: z.string({ error: "device must be a string" }).trim().min(1).optional(),
  optimizer: optimizer.optional(),
};

/** The module's hyper-parameter fields that were given, in the engine's names. */
function moduleHyperparameters(input: { epochs?: number; batch_size?: number; learning_rate?: number; image_size?: number; optimizer?: string }) {
  return engineHyperparameters({ epochs: input.epochs, batch_size: input.batch_size, learning_rate: input.learning_rate, image_size: input.image_size, optimizer: input.optimizer });
}

export const createTaskBody = z.object({
  project_name: projectName,
  task_name: z.string({ error: "task_name is required" }).trim().min(1, { error: "task_name is required" }).pipe(experimentName),
  ...hyperparameterFields,
  train_ratio: ratio("train_ratio").optional(),
  val_ratio: ratio("val_ratio").optional(),
  test_ratio: ratio("test_ratio").optional(),
  /** Ours: which dataset, when the project has more than one. */
  dataset_id: positiveInt("dataset_id").optional(),
});

export interface TrainingModuleCreateTask {
  projectName: string;
  name: string;
  model: { model: string } | { architectureId: number };
  datasetId?: number;
  /** Present when the client sent any ratio; missing ones count as 0. */
  splitRatios?: { train: number; val: number; test: number };
  device?: string;
  hyperparameters: Record<string, unknown>;
}

export function parseTrainingModuleCreateTask(body: unknown): TrainingModuleCreateTask {
  const input = parseInput(createTaskBody, body);
  const anyRatio = input.train_ratio !== undefined || input.val_ratio !== undefined || input.test_ratio !== undefined;
  const splitRatios = anyRatio ? moduleSplitRatios({ train: input.train_ratio ?? 0, val: input.val_ratio ?? 0, test: input.test_ratio ?? 0 }) : undefined;
  return {
    projectName: input.project_name,
    name: input.task_name,
    model: parseModelType(input.model_type),
    datasetId: input.dataset_id,
    splitRatios,
    device: input.device,
    hyperparameters: moduleHyperparameters(input),
  };
}

/** The run's split, checked by the studio's split schema and refused in the module's words (`train_ratio` …). */
function moduleSplitRatios(ratios: { train: number; val: number; test: number }) {
  const checked = splitRatiosInput.safeParse(ratios);
  if (checked.success) return checked.data;
  const sum = round6(ratios.train + ratios.val + ratios.test);
  throw invalidFromZod(
    checked.error.issues.map((issue) => ({
      path: [`${String(issue.path[0] ?? "train")}_ratio`],
      message: issue.message === SPLIT_SUM_MESSAGE ? `train_ratio + val_ratio + test_ratio must be 1, got ${sum}` : issue.message,
    })),
  );
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export const taskRefBody = z.object({ project_name: projectName, task_id: taskId });

/** Body of start_task, stop_task and delete_task. */
export function parseTrainingModuleTaskRef(body: unknown): { projectName: string; taskId: number } {
  const input = parseInput(taskRefBody, body);
  return { projectName: input.project_name, taskId: input.task_id };
}

/** `<task_id>` in a path: anything but a positive integer names no task. */
export function parseTrainingModuleTaskIdParam(value: string): number {
  return parsePathId(value, "Task");
}

export const saveConfigBody = z.object({
  project_name: projectName,
  config_name: z.string({ error: "config_name is required" }).trim().min(1, { error: "config_name is required" }),
  ...hyperparameterFields,
  model_type: hyperparameterFields.model_type.optional(),
  augmentation: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
  other_params: z.record(z.string(), z.unknown(), { error: "other_params must be an object" }).optional(),
});

export interface TrainingModuleSaveConfig {
  projectName: string;
  name: string;
  /** The engine's hyper-parameters: the module's fields and those of `other_params` the engine has. */
  hyperparameters: Record<string, unknown>;
  /** `augmentation` as our ops: Ultralytics' keys (`fliplr`, `hsv_h` …) or a list of ops. */
  augmentation: unknown[] | null;
  /** Everything else the client sent, kept as given. */
  extra: Record<string, unknown>;
  model?: { model: string } | { architectureId: number };
  device?: string;
}

// `command` among them: a member's external command must meet its 403, not be kept as an inert setting.
const ENGINE_KEYS = new Set(Object.keys(hyperparametersSchema.shape));

/**
 * `save_config`. `augmentation` may be Ultralytics-style keys, mapped onto our op library (keys that
 * are hyper-parameters, like `mosaic`, go there), or a list of ops; `other_params` keys the engine
 * knows become hyper-parameters; the rest of both is kept as given.
 */
export function parseTrainingModuleSaveConfig(body: unknown): TrainingModuleSaveConfig {
  const input = parseInput(saveConfigBody, body);
  const extra: Record<string, unknown> = {};
  const hyperparameters: Record<string, unknown> = {};
  const sort = (settings: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(settings)) (ENGINE_KEYS.has(key) ? hyperparameters : extra)[key] = value;
  };
  let augmentation: unknown[] | null = null;
  if (Array.isArray(input.augmentation)) {
    augmentation = input.augmentation;
  } else if (input.augmentation) {
    const mapped = ultralyticsAugmentation(input.augmentation);
    augmentation = mapped.pipeline;
    sort(mapped.rest);
  }
  sort(input.other_params ?? {});
  return {
    projectName: input.project_name,
    name: input.config_name,
    hyperparameters: { ...hyperparameters, ...moduleHyperparameters(input) },
    augmentation: augmentation && augmentation.length > 0 ? augmentation : null,
    extra,
    model: input.model_type === undefined ? undefined : parseModelType(input.model_type),
    device: input.device,
  };
}

// ---- the HTML dashboard (`GET /training/<project_name>`) ----

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

type DashboardTask = ReturnType<typeof trainingModuleTaskSummary>;

function taskRowHtml(task: DashboardTask): string {
  return `<tr data-task="${task.id}"><td>${task.id}</td><td>${escapeHtml(task.task_name)}</td><td>${escapeHtml(task.model_type)}</td><td class="status">${escapeHtml(task.status)}</td><td class="progress">${task.progress}%</td><td>${escapeHtml(task.created_at)}</td></tr>`;
}

/**
 * The module's training dashboard: the project's tasks, refreshed every 3 s from
 * `/training/tasks/<project>` with the page's own session cookie.
 */
/** What the dashboard shows of the training hosts: the live workers' figures, never invented ones. */
export interface DashboardHost {
  host: string;
  alive: boolean;
  slots: number;
  devices: string[];
  lastBeatSecondsAgo: number;
}

function configRowHtml(config: ReturnType<typeof trainingModuleConfig>): string {
  const cells = [config.config_name, config.model_type ?? "—", config.epochs ?? "—", config.batch_size ?? "—", config.learning_rate ?? "—", config.created_at];
  return `<tr>${cells.map((c) => `<td>${escapeHtml(String(c))}</td>`).join("")}</tr>`;
}

function systemStatusHtml(hosts: DashboardHost[], activeTasks: number): string {
  const live = hosts.filter((h) => h.alive);
  const slots = live.reduce((sum, h) => sum + h.slots, 0);
  const rows = hosts.length
    ? hosts
        .map((h) => `<tr><td>${escapeHtml(h.host)}</td><td>${h.alive ? "在线" : `离线（${h.lastBeatSecondsAgo} 秒前）`}</td><td>${h.slots}</td><td>${escapeHtml(h.devices.join(", ") || "—")}</td></tr>`)
        .join("\n")
    : `<tr class="empty"><td colspan="4">没有训练节点在运行</td></tr>`;
  return `<p id="system-summary">运行中的任务 ${activeTasks} / 可用并发 ${slots}（${live.length} 个在线训练节点）</p>
<table id="hosts"><thead><tr><th>主机</th><th>状态</th><th>并发槽位</th><th>设备</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

export function trainingDashboardHtml(
  projectName: string,
  tasks: DashboardTask[],
  configs: ReturnType<typeof trainingModuleConfig>[],
  hosts: DashboardHost[],
): string {
  const listUrl = `/training/tasks/${encodeURIComponent(projectName)}`;
  const rows = tasks.length ? tasks.map(taskRowHtml).join("\n") : `<tr class="empty"><td colspan="6">暂无训练任务</td></tr>`;
  const configRows = configs.length ? configs.map(configRowHtml).join("\n") : `<tr class="empty"><td colspan="6">暂无保存的训练配置</td></tr>`;
  const activeTasks = tasks.filter((t) => t.status === "running").length;
  return `<!doctype html>
<html lang="zh">
<head>
<meta charset="utf-8">
<title>训练仪表板 - ${escapeHtml(projectName)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left}
.status{font-weight:600}.muted{color:#777}
</style>
</head>
<body>
<h1>训练仪表板: ${escapeHtml(projectName)}</h1>
<p class="muted">状态每 3 秒刷新 · <a href="/experiments">在工作室中打开</a></p>
<table>
<thead><tr><th>ID</th><th>任务名称</th><th>模型</th><th>状态</th><th>进度</th><th>创建时间</th></tr></thead>
<tbody id="tasks">
${rows}
</tbody>
</table>
<p id="error" class="muted"></p>
<h2>训练配置</h2>
<table id="configs">
<thead><tr><th>配置名称</th><th>模型</th><th>轮数</th><th>批大小</th><th>学习率</th><th>创建时间</th></tr></thead>
<tbody>
${configRows}
</tbody>
</table>
<h2>系统状态</h2>
${systemStatusHtml(hosts, activeTasks)}
<script>
(function () {
  var body = document.getElementById("tasks");
  var error = document.getElementById("error");
  function cell(text) { var td = document.createElement("td"); td.textContent = String(text); return td; }
  function render(tasks) {
    body.replaceChildren();
    if (!tasks.length) { var tr = document.createElement("tr"); var td = cell("暂无训练任务"); td.colSpan = 6; tr.appendChild(td); body.appendChild(tr); return; }
    tasks.forEach(function (t) {
      var tr = document.createElement("tr");
      tr.dataset.task = t.id;
      [t.id, t.task_name, t.model_type, t.status, t.progress + "%", t.created_at].forEach(function (v, i) {
        var td = cell(v); if (i === 3) td.className = "status"; if (i === 4) td.className = "progress"; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function refresh() {
    fetch(${JSON.stringify(listUrl)}, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) { if (j.success) { render(j.tasks); error.textContent = ""; } else { error.textContent = j.error; } })
      .catch(function (e) { error.textContent = String(e); });
  }
  setInterval(refresh, 3000);
})();
</script>
</body>
</html>
`;
}
