import { readJson, withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { createExperiment, stopExperiment } from "@/server/experiments/lifecycle";
import { getExperiment, listExperiments } from "@/server/experiments/queries";
import { datasetForOldClients } from "@/server/projects/default-dataset";
import { defaultProject } from "@/server/projects/service";
import { parseRecognitionJobId, parseRecognitionStart, RECOGNITION_MESSAGES, recognitionJob } from "../recognition";
import { queueDeps, type CompatDeps } from "./deps";

/** Seed 003 (`/train`): jobs are the team's experiments; new ones go to the team's default project. */

export function listJobs(req: Request, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(req, studioV1Error, async (ctx) => Response.json((await listExperiments(ctx, { limit: 500 })).map(recognitionJob)), { db: deps.db });
}

export function startJob(req: Request, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    studioV1Error,
    async (ctx) => {
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
        queueDeps(deps),
      );
      return Response.json({ ...recognitionJob(experiment), message: RECOGNITION_MESSAGES.started });
    },
    { db: deps.db },
  );
}

export function getJob(req: Request, params: { jobId: string }, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(req, studioV1Error, async (ctx) => Response.json(recognitionJob(await getExperiment(ctx, parseRecognitionJobId(params.jobId)))), { db: deps.db });
}

export function stopJob(req: Request, params: { jobId: string }, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    studioV1Error,
    async (ctx) => {
      const experiment = await stopExperiment(ctx, parseRecognitionJobId(params.jobId));
      return Response.json({ ...recognitionJob(experiment), message: RECOGNITION_MESSAGES.stopped });
    },
    { db: deps.db },
  );
}
