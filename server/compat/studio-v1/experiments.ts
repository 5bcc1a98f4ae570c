import { readJson, withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { getDataset } from "@/server/datasets/queries";
import { createExperiment, deleteExperiment, pauseExperiment, renameExperiment, resumeExperiment, stopExperiment } from "@/server/experiments/lifecycle";
import { getExperiment, getExperimentMetrics, listExperiments } from "@/server/experiments/queries";
import {
  parseStudioV1Control,
  parseStudioV1CreateExperiment,
  parseStudioV1Id,
  parseStudioV1Rename,
  parseStudioV1StatusFilter,
  studioV1Experiment,
  studioV1MetricHistory,
} from "./mapper";
import { queueDeps } from "@/server/compat/shared/deps";
import { restError } from "@/server/http/rest-error";

/** Seed 002 §2.5 (`/api/v1/experiments…`). */

export function listV1Experiments(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const status = parseStudioV1StatusFilter(new URL(req.url).searchParams.get("status"));
      return Response.json((await listExperiments(ctx, { status, limit: 500 })).map(studioV1Experiment));
    },
    { db: route.db },
  );
}

/** Creates and queues at once (201); training runs on a worker. The experiment goes to its dataset's project. */
export function createV1Experiment(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const input = parseStudioV1CreateExperiment(await readJson(req));
      const dataset = await getDataset(ctx, input.datasetId);
      const experiment = await createExperiment(
        ctx,
        {
          projectId: dataset.projectId,
          name: input.name,
          datasetId: dataset.id,
          model: input.model,
          architectureId: input.architectureId,
          augmentationId: input.augmentationId,
          hyperparameters: input.hyperparameters,
          device: input.device,
          start: true,
        },
        queueDeps(route),
      );
      return Response.json(studioV1Experiment(experiment), { status: 201 });
    },
    { db: route.db },
  );
}

export async function renameV1Experiment(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const id = parseStudioV1Id(params.id, "Experiment");
      await renameExperiment(ctx, { id, ...parseStudioV1Rename(await readJson(req)) });
      return new Response(null, { status: 204 });
    },
    { db: route.db },
  );
}

export async function deleteV1Experiment(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      await deleteExperiment(ctx, parseStudioV1Id(params.id, "Experiment"));
      return new Response(null, { status: 204 });
    },
    { db: route.db },
  );
}

export async function controlV1Experiment(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const id = parseStudioV1Id(params.id, "Experiment");
      const command = parseStudioV1Control(await readJson(req));
      const experiment =
        command.action === "stop"
          ? await stopExperiment(ctx, id)
          : command.action === "pause"
            ? await pauseExperiment(ctx, id)
            : await resumeExperiment(ctx, { id, epochs: command.epochs, lr0: command.lr0, patience: command.patience }, queueDeps(route));
      return Response.json(studioV1Experiment(experiment));
    },
    { db: route.db },
  );
}

export async function getV1ExperimentMetrics(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(req, restError, async (ctx) => Response.json(studioV1MetricHistory(await getExperimentMetrics(ctx, parseStudioV1Id(params.id, "Experiment")))), { db: route.db });
}

export async function getV1Experiment(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(req, restError, async (ctx) => Response.json(studioV1Experiment(await getExperiment(ctx, parseStudioV1Id(params.id, "Experiment")))), { db: route.db });
}
