import { readJson, withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { defaultProject } from "@/server/projects/service";
import {
  deleteWeights,
  downloadResponse,
  getWeights,
  importUploadedWeights,
  importWeightsFromPath,
  listWeights,
  saveExperimentWeights,
  updateWeights,
  weightsDownload,
} from "@/server/weights/service";
import { exportWeights } from "@/server/weights/export";
import { validateWeights } from "@/server/weights/validate";
import { parseStudioV1Id } from "./mapper";
import { parseTrainingModuleExport, parseTrainingModuleValidate } from "@/server/compat/training-module/weights-mapper";
import { parseStudioV1Save, parseStudioV1WeightsImport, parseStudioV1WeightsQuery, parseStudioV1WeightsUpdate, studioV1Weights } from "./weights-mapper";
import { restError } from "@/server/http/rest-error";

/** Seed 002 §2.4.B (`/api/v1/models/weights…`) and §2.5's `POST /experiments/{id}/save`. */

export function listV1Weights(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => Response.json((await listWeights(ctx, parseStudioV1WeightsQuery(new URL(req.url).searchParams))).map(studioV1Weights)),
    { db: route.db },
  );
}

/** Multipart (`file`, optional `name`, `description`, `tags`, `project_id`, `model`) or JSON `{path}` → 201 and the entry. */
export function importV1Weights(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      if ((req.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) {
        return Response.json(studioV1Weights(await importUploadedWeights(ctx, req)), { status: 201 });
      }
      const input = parseStudioV1WeightsImport(await readJson(req));
      const entry = await importWeightsFromPath(ctx, { ...input, projectId: input.projectId ?? (await defaultProject(ctx)).id });
      return Response.json(studioV1Weights(entry), { status: 201 });
    },
    { multipart: true, db: route.db },
  );
}

export async function getV1Weights(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(req, restError, async (ctx) => Response.json(studioV1Weights(await getWeights(ctx, parseStudioV1Id(params.id, "Weights")))), { db: route.db });
}

/** → 204, as the document's status table says for updates. */
export async function updateV1Weights(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const id = parseStudioV1Id(params.id, "Weights");
      await updateWeights(ctx, { id, ...parseStudioV1WeightsUpdate(await readJson(req)) });
      return new Response(null, { status: 204 });
    },
    { db: route.db },
  );
}

/** → 204 with the file gone from disk (unless another entry holds the same content); 422 with the reason while in use. */
export async function deleteV1Weights(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      await deleteWeights(ctx, parseStudioV1Id(params.id, "Weights"));
      return new Response(null, { status: 204 });
    },
    { db: route.db },
  );
}

/** The file as `Content-Disposition: attachment`, streamed, with Range requests (206). */
export async function downloadV1Weights(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(req, restError, async (ctx) => downloadResponse(await weightsDownload(ctx, parseStudioV1Id(params.id, "Weights")), req), { db: route.db });
}

/** Copies the run's best checkpoint (or `{which: "last"}`) into the library → 201 and the new entry. */
export async function saveV1ExperimentWeights(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const id = parseStudioV1Id(params.id, "Experiment");
      const input = parseStudioV1Save(await readJson(req), new URL(req.url).searchParams);
      return Response.json(studioV1Weights(await saveExperimentWeights(ctx, id, input)), { status: 201 });
    },
    { db: route.db },
  );
}

/**
 * Extension for scripts: `POST /api/v1/models/weights/{id}/export` with Ultralytics' export arguments
 * (`format`, `opset`, `half`, `int8`, `dynamic`, `simplify`, `batch`, `imgsz`) → 201 and the child entry
 * `{id, status: "processing"}`, whose download works once the job is done.
 */
export async function exportV1Weights(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const weightsId = parseStudioV1Id(params.id, "Weights");
      const child = await exportWeights(ctx, { ...parseTrainingModuleExport(await readJson(req)), weightsId }, { boss: route.boss });
      return Response.json({ id: child.id, status: child.status }, { status: 201 });
    },
    { db: route.db },
  );
}

/**
 * Extension for scripts: `POST /api/v1/models/weights/{id}/validate` with Ultralytics' val arguments
 * (`dataset_id`, `split`, `imgsz`, `batch`, `conf`, `iou`, `device`, `save_json`, `plots`) → 201 and the
 * queued validation `{id, status}`; the entry's metrics follow once it is done.
 */
export async function validateV1Weights(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const weightsId = parseStudioV1Id(params.id, "Weights");
      const validation = await validateWeights(ctx, { ...parseTrainingModuleValidate(await readJson(req)), weightsId }, { boss: route.boss });
      return Response.json({ id: validation.id, status: validation.status }, { status: 201 });
    },
    { db: route.db },
  );
}
