import { readJson } from "@/server/http/handler";
import { NotFound } from "@/server/errors";
import { activeWeightsId, findWeightsByIdOrName, latestValidationSpeeds, setActiveWeights } from "@/server/weights/active-model";
import { listWeights } from "@/server/weights/queries";
import { validateWeights } from "@/server/weights/validate";
import { parseActivateModel, parseEvaluateModel, recognitionEvaluation, recognitionMetrics, recognitionModel, RECOGNITION_MODEL_MESSAGES } from "./models-mapper";
import { queueDeps } from "@/server/compat/shared/deps";
import { restRoute, restRouteOn } from "@/server/http/rest-route";

/** Seed 003 (`/models`, `/metrics`): its models are the team's weights entries; errors are FastAPI's `{detail}`. */

export const listModels = restRoute(async (ctx) => {
  const [entries, activeId] = await Promise.all([listWeights(ctx), activeWeightsId(ctx)]);
  return Response.json(entries.map((entry) => recognitionModel(entry, activeId)));
});

export const getActiveModel = restRoute(async (ctx) => {
  const activeId = await activeWeightsId(ctx);
  if (activeId === null) throw new NotFound("No active model: choose one with POST /models/active {model_id}");
  return Response.json(recognitionModel(await findWeightsByIdOrName(ctx, String(activeId)), activeId));
});

export const setActiveModel = restRoute(async (ctx, req) => {
  const { modelId } = parseActivateModel(await readJson(req));
  const entry = await setActiveWeights(ctx, (await findWeightsByIdOrName(ctx, modelId)).id);
  return Response.json({ ...recognitionModel(entry, entry.id), message: RECOGNITION_MODEL_MESSAGES.activated });
});

/** Every model's metrics, keyed by model id, as the backend's `model_metrics` dict. */
export const listMetrics = restRoute(async (ctx) => {
  const entries = await listWeights(ctx);
  const speeds = await latestValidationSpeeds(ctx, entries.map((entry) => entry.id));
  return Response.json(Object.fromEntries(entries.map((entry) => [String(entry.id), recognitionMetrics(entry, speeds.get(entry.id))])));
});

export const getMetrics = restRouteOn<"model_id">(async (ctx, params) => {
  const entry = await findWeightsByIdOrName(ctx, params.model_id);
  const speeds = await latestValidationSpeeds(ctx, [entry.id]);
  return Response.json(recognitionMetrics(entry, speeds.get(entry.id)));
});

/** Queues a validation job of the model on the dataset it was trained on (or the body's dataset_id). */
export const evaluateModel = restRouteOn<"model_id">(async (ctx, params, req, route) => {
  const input = parseEvaluateModel(await readJson(req));
  const entry = await findWeightsByIdOrName(ctx, params.model_id);
  const validation = await validateWeights(ctx, { weightsId: entry.id, datasetId: input.datasetId, split: input.split, batch: input.batch, imgsz: input.imgsz, device: input.device }, queueDeps(route));
  return Response.json(recognitionEvaluation(entry.id, validation));
});
