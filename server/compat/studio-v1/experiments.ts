import { readJson } from "@/server/http/handler";
import { getDataset } from "@/server/datasets/queries";
import { createExperiment, deleteExperiment, pauseExperiment, renameExperiment, resumeExperiment, stopExperiment } from "@/server/experiments/lifecycle";
import { getExperiment, getExperimentMetrics, listExperiments } from "@/server/experiments/queries";
import { parseStudioV1Control, parseStudioV1CreateExperiment, parseStudioV1Rename, parseStudioV1StatusFilter, studioV1Experiment, studioV1MetricHistory } from "./mapper";
import { queueDeps } from "@/server/compat/shared/deps";
import { noContent, restRoute } from "@/server/http/rest-route";
import { v1RecordRoute } from "./route";

/** Seed 002 §2.5 (`/api/v1/experiments…`). */

export const listV1Experiments = restRoute(async (ctx, req) => {
  const status = parseStudioV1StatusFilter(new URL(req.url).searchParams.get("status"));
  return Response.json((await listExperiments(ctx, { status, limit: 500 })).map(studioV1Experiment));
});

/** Creates and queues at once (201); training runs on a worker. The experiment goes to its dataset's project. */
export const createV1Experiment = restRoute(async (ctx, req, route) => {
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
});

export const renameV1Experiment = v1RecordRoute("Experiment", async (ctx, id, req) => {
  await renameExperiment(ctx, { id, ...parseStudioV1Rename(await readJson(req)) });
  return noContent();
});

export const deleteV1Experiment = v1RecordRoute("Experiment", async (ctx, id) => {
  await deleteExperiment(ctx, id);
  return noContent();
});

export const controlV1Experiment = v1RecordRoute("Experiment", async (ctx, id, req, route) => {
  const command = parseStudioV1Control(await readJson(req));
  const experiment =
    command.action === "stop"
      ? await stopExperiment(ctx, id)
      : command.action === "pause"
        ? await pauseExperiment(ctx, id)
        : await resumeExperiment(ctx, { id, epochs: command.epochs, lr0: command.lr0, patience: command.patience }, queueDeps(route));
  return Response.json(studioV1Experiment(experiment));
});

export const getV1ExperimentMetrics = v1RecordRoute("Experiment", async (ctx, id) => Response.json(studioV1MetricHistory(await getExperimentMetrics(ctx, id))));

export const getV1Experiment = v1RecordRoute("Experiment", async (ctx, id) => Response.json(studioV1Experiment(await getExperiment(ctx, id))));
