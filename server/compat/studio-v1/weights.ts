import { readJson } from "@/server/http/handler";
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
import { parseTrainingModuleExport, parseTrainingModuleValidate } from "@/server/compat/training-module/weights-mapper";
import { noContent, restRoute } from "@/server/http/rest-route";
import { v1RecordRoute } from "./route";
import { parseStudioV1Save, parseStudioV1WeightsImport, parseStudioV1WeightsQuery, parseStudioV1WeightsUpdate, studioV1Weights } from "./weights-mapper";

/** Seed 002 §2.4.B (`/api/v1/models/weights…`) and §2.5's `POST /experiments/{id}/save`. */

export const listV1Weights = restRoute(async (ctx, req) => Response.json((await listWeights(ctx, parseStudioV1WeightsQuery(new URL(req.url).searchParams))).map(studioV1Weights)));

/** Multipart (`file`, optional `name`, `description`, `tags`, `project_id`, `model`) or JSON `{path}` → 201 and the entry. */
export const importV1Weights = restRoute(
  async (ctx, req) => {
    if ((req.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) {
      return Response.json(studioV1Weights(await importUploadedWeights(ctx, req)), { status: 201 });
    }
    const input = parseStudioV1WeightsImport(await readJson(req));
    const entry = await importWeightsFromPath(ctx, { ...input, projectId: input.projectId ?? (await defaultProject(ctx)).id });
    return Response.json(studioV1Weights(entry), { status: 201 });
  },
  { multipart: true },
);

export const getV1Weights = v1RecordRoute("Weights", async (ctx, id) => Response.json(studioV1Weights(await getWeights(ctx, id))));

/** → 204, as the document's status table says for updates. */
export const updateV1Weights = v1RecordRoute("Weights", async (ctx, id, req) => {
  await updateWeights(ctx, { id, ...parseStudioV1WeightsUpdate(await readJson(req)) });
  return noContent();
});

/** → 204 with the file gone from disk (unless another entry holds the same content); 422 with the reason while in use. */
export const deleteV1Weights = v1RecordRoute("Weights", async (ctx, id) => {
  await deleteWeights(ctx, id);
  return noContent();
});

/** The file as `Content-Disposition: attachment`, streamed, with Range requests (206). */
export const downloadV1Weights = v1RecordRoute("Weights", async (ctx, id, req) => downloadResponse(await weightsDownload(ctx, id), req));

/** Copies the run's best checkpoint (or `{which: "last"}`) into the library → 201 and the new entry. */
export const saveV1ExperimentWeights = v1RecordRoute("Experiment", async (ctx, id, req) => {
  const input = parseStudioV1Save(await readJson(req), new URL(req.url).searchParams);
  return Response.json(studioV1Weights(await saveExperimentWeights(ctx, id, input)), { status: 201 });
});

/**
 * Extension for scripts: `POST /api/v1/models/weights/{id}/export` with Ultralytics' export arguments
 * (`format`, `opset`, `half`, `int8`, `dynamic`, `simplify`, `batch`, `imgsz`) → 201 and the child entry
 * `{id, status: "processing"}`, whose download works once the job is done.
 */
export const exportV1Weights = v1RecordRoute("Weights", async (ctx, weightsId, req, route) => {
  const child = await exportWeights(ctx, { ...parseTrainingModuleExport(await readJson(req)), weightsId }, { boss: route.boss });
  return Response.json({ id: child.id, status: child.status }, { status: 201 });
});

/**
 * Extension for scripts: `POST /api/v1/models/weights/{id}/validate` with Ultralytics' val arguments
 * (`dataset_id`, `split`, `imgsz`, `batch`, `conf`, `iou`, `device`, `save_json`, `plots`) → 201 and the
 * queued validation `{id, status}`; the entry's metrics follow once it is done.
 */
export const validateV1Weights = v1RecordRoute("Weights", async (ctx, weightsId, req, route) => {
  const validation = await validateWeights(ctx, { ...parseTrainingModuleValidate(await readJson(req)), weightsId }, { boss: route.boss });
  return Response.json({ id: validation.id, status: validation.status }, { status: 201 });
});
