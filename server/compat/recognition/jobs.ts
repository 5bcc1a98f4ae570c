import { readJson } from "@/server/http/handler";
import { createExperiment, stopExperiment } from "@/server/experiments/lifecycle";
import { getExperiment, listExperiments } from "@/server/experiments/queries";
import { datasetForOldClients } from "@/server/projects/default-dataset";
import { defaultProject } from "@/server/projects/service";
import { parseRecognitionJobId, parseRecognitionStart, RECOGNITION_MESSAGES, recognitionJob } from "./mapper";
import { queueDeps } from "@/server/compat/shared/deps";
import { restRoute, restRouteOn } from "@/server/http/rest-route";

/** Seed 003 (`/train`): jobs are the team's experiments; new ones go to the team's default project. */

export const listJobs = restRoute(async (ctx) => Response.json((await listExperiments(ctx, { limit: 500 })).map(recognitionJob)));

export const startJob = restRoute(async (ctx, req, route) => {
  const input = parseRecognitionStart(await readJson(req));
  const project = await defaultProject(ctx);
  const datasetId = input.datasetId ?? (await datasetForOldClients(ctx, project));
  const experiment = await createExperiment(
    ctx,
    {
      projectId: project.id,
      name: input.name ?? `${input.model}-${new Date().toISOString().replace(/\.\d+Z$/, "Z")}`,
      datasetId,
      model: input.model,
      hyperparameters: input.hyperparameters,
      device: input.device,
      start: true,
    },
    queueDeps(route),
  );
  return Response.json({ ...recognitionJob(experiment), message: RECOGNITION_MESSAGES.started });
});

export const getJob = restRouteOn<"job_id">(async (ctx, params) => Response.json(recognitionJob(await getExperiment(ctx, parseRecognitionJobId(params.job_id)))));

export const stopJob = restRouteOn<"job_id">(async (ctx, params) => {
  const experiment = await stopExperiment(ctx, parseRecognitionJobId(params.job_id));
  return Response.json({ ...recognitionJob(experiment), message: RECOGNITION_MESSAGES.stopped });
});
