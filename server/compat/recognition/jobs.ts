import { readJson, withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { createExperiment, stopExperiment } from "@/server/experiments/lifecycle";
import { getExperiment, listExperiments } from "@/server/experiments/queries";
import { datasetForOldClients } from "@/server/projects/default-dataset";
import { defaultProject } from "@/server/projects/service";
import { parseRecognitionJobId, parseRecognitionStart, RECOGNITION_MESSAGES, recognitionJob } from "./mapper";
import { queueDeps } from "@/server/compat/shared/deps";
import { restError } from "@/server/http/rest-error";

/** Seed 003 (`/train`): jobs are the team's experiments; new ones go to the team's default project. */

export function listJobs(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, async (ctx) => Response.json((await listExperiments(ctx, { limit: 500 })).map(recognitionJob)), { db: route.db });
}

export function startJob(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
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
        queueDeps(route),
      );
      return Response.json({ ...recognitionJob(experiment), message: RECOGNITION_MESSAGES.started });
    },
    { db: route.db },
  );
}

export async function getJob(req: Request, route: RouteContext<"job_id">): Promise<Response> {
  const params = await route.params;
  return withCaller(req, restError, async (ctx) => Response.json(recognitionJob(await getExperiment(ctx, parseRecognitionJobId(params.job_id)))), { db: route.db });
}

export async function stopJob(req: Request, route: RouteContext<"job_id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const experiment = await stopExperiment(ctx, parseRecognitionJobId(params.job_id));
      return Response.json({ ...recognitionJob(experiment), message: RECOGNITION_MESSAGES.stopped });
    },
    { db: route.db },
  );
}
