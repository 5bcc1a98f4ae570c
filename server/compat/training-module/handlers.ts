import { asDomainError, readJson, requestContext, type RouteContext, type RouteDeps } from "@/server/http/handler";
import type { Ctx } from "@/server/context";
import { NotFound, Unavailable } from "@/server/errors";
import { env } from "@/server/env";
import { createExperiment, deleteExperiment, resumeExperiment, startExperiment, stopExperiment } from "@/server/experiments/lifecycle";
import { getEpochMetrics, listExperiments } from "@/server/experiments/queries";
import { availableDevices } from "@/server/ml/backend/index";
import { zooModels } from "@/server/ml/zoo/index";
import { datasetForOldClients } from "@/server/projects/default-dataset";
import { getProjectByName } from "@/server/projects/service";
import { systemWorkers } from "@/server/system/service";
import { listTrainingConfigs, saveTrainingConfig } from "@/server/training-configs/service";
import { findWeightsByReference, fineTuneModel } from "@/server/weights/fine-tune";
import {
  escapeHtml,
  parseTrainingModuleCreateTask,
  parseTrainingModuleSaveConfig,
  parseTrainingModuleTaskIdParam,
  parseTrainingModuleTaskRef,
  TRAINING_MODULE_MESSAGES,
  trainingDashboardHtml,
  trainingModuleAvailableModels,
  trainingModuleConfig,
  trainingModuleTaskDetail,
  trainingModuleTaskSummary,
  type TrainingModuleCreateTask,
} from "./mapper";
import { queueDeps } from "@/server/compat/shared/deps";
import { moduleRoute, projectRoute, projectTask } from "./route";

/** Seed 000 (`/training/…`): each export is one route's logic; the route files in app/training call them. */

/**
 * `model_type` may name a weights entry instead of a model (`weights:12`, `weights:<name>` or a name that is
 * no zoo model): the task fine-tunes from it, training the network the entry is for.
 */
const isZooModel = (name: string) => zooModels.some((zoo) => zoo.name === name);

async function modelOrWeights(ctx: Ctx, projectId: number, input: TrainingModuleCreateTask) {
  const named = "model" in input.model ? input.model.model : null;
  const entry = named !== null && (named.startsWith("weights:") || !isZooModel(named)) ? await findWeightsByReference(ctx, projectId, named) : null;
  if (!entry) {
    if (named?.startsWith("weights:")) throw new NotFound(`Weights ${named.slice("weights:".length)} not found`, { model_type: ["no such weights"] });
    return { model: input.model, hyperparameters: input.hyperparameters };
  }
  return { model: fineTuneModel(entry), hyperparameters: { ...input.hyperparameters, weights: entry.id } };
}

export const createTask = moduleRoute(async (ctx, req, route) => {
  const input = parseTrainingModuleCreateTask(await readJson(req));
  const project = await getProjectByName(ctx, input.projectName);
  const datasetId = input.datasetId ?? (await datasetForOldClients(ctx, project));
  const { model, hyperparameters } = await modelOrWeights(ctx, project.id, input);
  // The module split the project's images per task: the run gets its own split, the dataset keeps its.
  const experiment = await createExperiment(
    ctx,
    { projectId: project.id, name: input.name, datasetId, ...model, splitRatios: input.splitRatios, hyperparameters, device: input.device, start: false },
    queueDeps(route),
  );
  return Response.json({ success: true, task_id: experiment.id });
});

/** start_task, stop_task and delete_task: `{project_name, task_id}` in, `{success, message}` out. */
function taskCommand(command: (ctx: Ctx, task: Awaited<ReturnType<typeof projectTask>>, route: RouteDeps) => Promise<unknown>, message: string) {
  return moduleRoute(async (ctx, req, route) => {
    const ref = parseTrainingModuleTaskRef(await readJson(req));
    await command(ctx, await projectTask(ctx, await getProjectByName(ctx, ref.projectName), ref.taskId), route);
    return Response.json({ success: true, message });
  });
}

export const startTask = taskCommand(
  // A stopped or failed task starts again from its last checkpoint; a running one is a 409.
  (ctx, task, route) =>
    ["paused", "stopped", "failed"].includes(task.status) ? resumeExperiment(ctx, { id: task.id }, queueDeps(route)) : startExperiment(ctx, task.id, queueDeps(route)),
  TRAINING_MODULE_MESSAGES.started,
);

export const stopTask = taskCommand((ctx, task) => stopExperiment(ctx, task.id), TRAINING_MODULE_MESSAGES.stopped);

export const deleteTask = taskCommand((ctx, task) => deleteExperiment(ctx, task.id), TRAINING_MODULE_MESSAGES.deleted);

export const taskStatus = projectRoute<"task_id">(async (ctx, project, _req, params) => {
  const task = await projectTask(ctx, project, parseTrainingModuleTaskIdParam(params.task_id));
  return Response.json({ success: true, task: trainingModuleTaskDetail(task, await getEpochMetrics(ctx, task.id), env().dataDir) });
});

export const listTasks = projectRoute(async (ctx, project) => {
  const tasks = await listExperiments(ctx, { projectId: project.id, limit: 500 });
  return Response.json({ success: true, tasks: tasks.map(trainingModuleTaskSummary) });
});

export const availableModels = moduleRoute(async () => Response.json(trainingModuleAvailableModels(zooModels, await availableDevices())));

/**
 * The HTML dashboard. A page, so a visitor without a session is sent to the login page (and back
 * here afterwards) instead of getting a JSON error.
 */
export async function dashboard(req: Request, route: RouteContext<"project_name">): Promise<Response> {
  const params = await route.params;
  const html = (body: string, status: number) => new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
  const page = (title: string, message: string, status: number) => html(`<!doctype html><meta charset="utf-8"><title>${title}</title><p>${escapeHtml(message)}</p>`, status);
  try {
    const ctx = await requestContext(req, route);
    const here = new URL(req.url);
    if (!ctx) {
      const login = new URL("/login", here);
      login.searchParams.set("callbackUrl", here.pathname);
      return new Response(null, { status: 302, headers: { location: `${login.pathname}${login.search}` } });
    }
    const project = await getProjectByName(ctx, params.project_name);
    const [tasks, configs, hosts] = await Promise.all([
      listExperiments(ctx, { projectId: project.id, limit: 500 }),
      listTrainingConfigs(ctx, { projectId: project.id }),
      systemWorkers(ctx),
    ]);
    const trainingHosts = hosts.filter((h) => h.kind === "training").map((h) => ({ ...h, devices: h.devices.map((d) => d.device) }));
    return html(trainingDashboardHtml(project.name, tasks.map(trainingModuleTaskSummary), configs.map(trainingModuleConfig), trainingHosts), 200);
  } catch (err) {
    const known = asDomainError(err);
    if (known instanceof NotFound) return page("404", known.message, 404);
    if (known instanceof Unavailable) return page("503", "数据库暂时不可用，请稍后刷新", 503);
    throw err;
  }
}

export const saveConfig = moduleRoute(async (ctx, req) => {
  const input = parseTrainingModuleSaveConfig(await readJson(req));
  const project = await getProjectByName(ctx, input.projectName);
  const config = await saveTrainingConfig(ctx, {
    projectId: project.id,
    name: input.name,
    hyperparameters: input.hyperparameters,
    ...input.model,
    device: input.device,
    augmentation: input.augmentation,
    extra: input.extra,
  });
  return Response.json({ success: true, config_id: config.id });
});

export const listConfigs = projectRoute(async (ctx, project) => {
  const configs = await listTrainingConfigs(ctx, { projectId: project.id });
  return Response.json({ success: true, configs: configs.map(trainingModuleConfig) });
});
