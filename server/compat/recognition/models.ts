import { readJson, withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { NotFound } from "@/server/errors";
import { activeWeightsId, findWeightsByIdOrName, latestValidationSpeeds, setActiveWeights } from "@/server/weights/active-model";
import { listWeights } from "@/server/weights/queries";
import { validateWeights } from "@/server/weights/validate";
import { parseActivateModel, parseEvaluateModel, recognitionEvaluation, recognitionMetrics, recognitionModel, RECOGNITION_MODEL_MESSAGES } from "../recognition-models";
import { queueDeps, type CompatDeps } from "./deps";

/** Seed 003 (`/models`, `/metrics`): its models are the team's weights entries; errors are FastAPI's `{detail}`. */

export function listModels(req: Request, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    studioV1Error,
    async (ctx) => {
      const [entries, activeId] = await Promise.all([listWeights(ctx), activeWeightsId(ctx)]);
      return Response.json(entries.map((entry) => recognitionModel(entry, activeId)));
    },
    { db: deps.db },
  );
}

export function getActiveModel(req: Request, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    studioV1Error,
    async (ctx) => {
      const activeId = await activeWeightsId(ctx);
      if (activeId === null) throw new NotFound("No active model: choose one with POST /models/active {model_id}");
      return Response.json(recognitionModel(await findWeightsByIdOrName(ctx, String(activeId)), activeId));
    },
    { db: deps.db },
  );
}

export function setActiveModel(req: Request, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    studioV1Error,
    async (ctx) => {
      const { modelId } = parseActivateModel(await readJson(req));
      const entry = await setActiveWeights(ctx, (await findWeightsByIdOrName(ctx, modelId)).id);
      return Response.json({ ...recognitionModel(entry, entry.id), message: RECOGNITION_MODEL_MESSAGES.activated });
    },
    { db: deps.db },
  );
}

/** Every model's metrics, keyed by model id, as the backend's `model_metrics` dict. */
export function listMetrics(req: Request, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    studioV1Error,
    async (ctx) => {
      const entries = await listWeights(ctx);
      const speeds = await latestValidationSpeeds(ctx, entries.map((entry) => entry.id));
      return Response.json(Object.fromEntries(entries.map((entry) => [String(entry.id), recognitionMetrics(entry, speeds.get(entry.id))])));
    },
    { db: deps.db },
  );
}

export function getMetrics(req: Request, params: { modelId: string }, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    studioV1Error,
    async (ctx) => {
      const entry = await findWeightsByIdOrName(ctx, params.modelId);
      const speeds = await latestValidationSpeeds(ctx, [entry.id]);
      return Response.json(recognitionMetrics(entry, speeds.get(entry.id)));
    },
    { db: deps.db },
  );
}

/** Queues a validation job of the model on the dataset it was trained on (or the body's dataset_id). */
export function evaluateModel(req: Request, params: { modelId: string }, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    studioV1Error,
    async (ctx) => {
      const input = parseEvaluateModel(await readJson(req));
      const entry = await findWeightsByIdOrName(ctx, params.modelId);
      const validation = await validateWeights(
        ctx,
        { weightsId: entry.id, datasetId: input.datasetId, split: input.split, batch: input.batch, imgsz: input.imgsz, device: input.device },
        queueDeps(deps),
      );
      return Response.json(recognitionEvaluation(entry.id, validation));
    },
    { db: deps.db },
  );
}
