import { readJson, withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { NotFound } from "@/server/errors";
import { activeWeightsId, findWeightsByIdOrName, latestValidationSpeeds, setActiveWeights } from "@/server/weights/active-model";
import { listWeights } from "@/server/weights/queries";
import { validateWeights } from "@/server/weights/validate";
import { parseActivateModel, parseEvaluateModel, recognitionEvaluation, recognitionMetrics, recognitionModel, RECOGNITION_MODEL_MESSAGES } from "./models-mapper";
import { queueDeps } from "@/server/compat/shared/deps";
import { restError } from "@/server/http/rest-error";

/** Seed 003 (`/models`, `/metrics`): its models are the team's weights entries; errors are FastAPI's `{detail}`. */

export function listModels(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const [entries, activeId] = await Promise.all([listWeights(ctx), activeWeightsId(ctx)]);
      return Response.json(entries.map((entry) => recognitionModel(entry, activeId)));
    },
    { db: route.db },
  );
}

export function getActiveModel(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const activeId = await activeWeightsId(ctx);
      if (activeId === null) throw new NotFound("No active model: choose one with POST /models/active {model_id}");
      return Response.json(recognitionModel(await findWeightsByIdOrName(ctx, String(activeId)), activeId));
    },
    { db: route.db },
  );
}

export function setActiveModel(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const { modelId } = parseActivateModel(await readJson(req));
      const entry = await setActiveWeights(ctx, (await findWeightsByIdOrName(ctx, modelId)).id);
      return Response.json({ ...recognitionModel(entry, entry.id), message: RECOGNITION_MODEL_MESSAGES.activated });
    },
    { db: route.db },
  );
}

/** Every model's metrics, keyed by model id, as the backend's `model_metrics` dict. */
export function listMetrics(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const entries = await listWeights(ctx);
      const speeds = await latestValidationSpeeds(ctx, entries.map((entry) => entry.id));
      return Response.json(Object.fromEntries(entries.map((entry) => [String(entry.id), recognitionMetrics(entry, speeds.get(entry.id))])));
    },
    { db: route.db },
  );
}

export async function getMetrics(req: Request, route: RouteContext<"model_id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const entry = await findWeightsByIdOrName(ctx, params.model_id);
      const speeds = await latestValidationSpeeds(ctx, [entry.id]);
      return Response.json(recognitionMetrics(entry, speeds.get(entry.id)));
    },
    { db: route.db },
  );
}

/** Queues a validation job of the model on the dataset it was trained on (or the body's dataset_id). */
export async function evaluateModel(req: Request, route: RouteContext<"model_id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const input = parseEvaluateModel(await readJson(req));
      const entry = await findWeightsByIdOrName(ctx, params.model_id);
      const validation = await validateWeights(
        ctx,
        { weightsId: entry.id, datasetId: input.datasetId, split: input.split, batch: input.batch, imgsz: input.imgsz, device: input.device },
        queueDeps(route),
      );
      return Response.json(recognitionEvaluation(entry.id, validation));
    },
    { db: route.db },
  );
}
