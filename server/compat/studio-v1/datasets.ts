// The old studio dialect (seed 002 §2.2, `/api/v1/datasets`): field names and status codes as its clients expect.

import { z } from "zod";
import { readJson } from "@/server/http/handler";
import { importQueue } from "@/server/compat/shared/deps";
import type { Ctx } from "@/server/context";
import { freeText, INT32_MAX, recordId } from "@/server/http/input";
import { parseInput } from "@/server/errors";
import { defaultProject } from "@/server/projects/service";
import { datasetName, splitRatiosInput } from "@/server/datasets/schemas";
import { deleteDataset, getDataset, listDatasets, previewDataset, startDatasetImport, updateDataset, type EnqueueImport } from "@/server/datasets/service";
import { importUploadedDataset } from "@/server/datasets/upload";
import { isoSecondsZ } from "@/server/compat/shared/experiment-common";
import { noContent, restRoute } from "@/server/http/rest-route";
import { v1RecordRoute } from "./route";

type DatasetRow = Awaited<ReturnType<typeof getDataset>>;

export function imageUrl(datasetId: number, itemId: number, thumb = false): string {
  return `/api/datasets/${datasetId}/images/${itemId}${thumb ? "?thumb=1" : ""}`;
}

/** A dataset as list entries show it. */
export function datasetV1(row: DatasetRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    // Both are known once the import has read the files; until then the columns hold placeholders.
    task: row.status === "ready" ? row.task : "unknown",
    format: row.status === "ready" ? row.format : "unknown",
    status: row.status,
    progress: row.progress,
    stage: row.stage,
    classes: row.classes,
    num_images: row.stats?.images ?? 0,
    num_classes: row.classes.length,
    size_bytes: row.stats?.bytes ?? 0,
    splits: row.splits ? { train: row.splits.train, val: row.splits.val, test: row.splits.test, source: row.splits.source, seed: row.splits.seed, ratios: row.splits.ratios } : null,
    created_at: isoSecondsZ(row.createdAt),
    updated_at: isoSecondsZ(row.updatedAt),
  };
}

/** The detail view adds the analysis. */
export function datasetDetailV1(row: DatasetRow) {
  const s = row.stats;
  return {
    ...datasetV1(row),
    class_distribution: s?.classes ?? [],
    resolution: s ? { width: s.width, height: s.height, aspect_ratio: s.aspect } : null,
    empty_annotation_rate: s?.emptyRate ?? 0,
    empty_images: s?.emptyImages ?? 0,
    images_per_split: s?.perSplit ?? null,
    corrupt_files: s?.corrupt ?? [],
    duplicates: s?.duplicates ?? [],
    out_of_range_boxes: s?.outOfRangeBoxes ?? [],
    tiny_boxes: s?.tinyBoxes ?? 0,
    skipped_files: s?.skipped ?? [],
    format_evidence: s?.evidence ?? [],
  };
}

// Past this, an offset is no page anyone browses to.
const MAX_PAGE = 1_000_000;

export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
  size: z.coerce.number().int().min(1).max(100).default(20),
  q: freeText(200).optional(),
});

export async function listDatasetsV1(ctx: Ctx, url: URL) {
  const parsed = parseInput(pageQuery, Object.fromEntries(url.searchParams));
  const { items, total } = await listDatasets(ctx, {}, parsed);
  return Response.json({ items: items.map(datasetV1), total, page: parsed.page, size: parsed.size });
}

export const createJson = z.object({
  name: datasetName,
  description: freeText(2000).default(""),
  path: freeText(4096).min(1, "required"),
  project_id: recordId.optional(),
  split: z.object({ ratios: splitRatiosInput, seed: z.number().int().min(0).max(INT32_MAX).default(0) }).optional(),
});

/** `POST /api/v1/datasets`: multipart `.zip` (`file`, `name`, `description?`, `project_id?`) or JSON `{name, path}`. */
export async function createDatasetV1(req: Request, ctx: Ctx, enqueue?: EnqueueImport) {
  const type = req.headers.get("content-type") ?? "";
  if (type.startsWith("multipart/form-data")) return Response.json(datasetV1(await importUploadedDataset(ctx, req, enqueue)), { status: 201 });
  const input = parseInput(createJson, await readJson(req));
  const projectId = input.project_id ?? (await defaultProject(ctx)).id;
  const row = await startDatasetImport(
    ctx,
    { projectId, name: input.name, description: input.description, source: { kind: "path", path: input.path }, ratios: input.split?.ratios, seed: input.split?.seed },
    enqueue,
  );
  return Response.json(datasetV1(row), { status: 201 });
}

export async function getDatasetV1(ctx: Ctx, id: number) {
  return Response.json(datasetDetailV1(await getDataset(ctx, id)));
}

export const previewQuery = z.object({
  page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
  limit: z.coerce.number().int().min(1).max(200).default(24),
  split: z.enum(["train", "val", "test"]).optional(),
  class_id: z.coerce.number().int().min(0).max(INT32_MAX).optional(),
});

export async function previewDatasetV1(ctx: Ctx, id: number, url: URL) {
  const q = parseInput(previewQuery, Object.fromEntries(url.searchParams));
  const page = await previewDataset(ctx, { id, page: q.page, limit: q.limit, split: q.split, classId: q.class_id });
  return Response.json({
    items: page.items.map((item) => ({
      id: item.id,
      url: imageUrl(id, item.id),
      thumbnail_url: imageUrl(id, item.id, true),
      path: item.path,
      split: item.split,
      width: item.width,
      height: item.height,
      label: item.label === null ? null : page.classes[item.label],
      boxes: item.boxes?.map((b) => ({ class: page.classes[b.cls], class_id: b.cls, x: b.x, y: b.y, w: b.w, h: b.h })) ?? null,
    })),
    total: page.total,
    page: page.page,
    limit: page.limit,
  });
}

export const updateJson = z.object({ name: datasetName.optional(), description: freeText(2000).optional() });

/** `PUT /api/v1/datasets/{id}` → 204, as the seed's status table says for updates. */
export async function updateDatasetV1(req: Request, ctx: Ctx, id: number) {
  const parsed = parseInput(updateJson, await readJson(req));
  await updateDataset(ctx, { id, ...parsed });
  return noContent();
}

export async function deleteDatasetV1(ctx: Ctx, id: number) {
  await deleteDataset(ctx, id);
  return noContent();
}

// The route handlers: each wraps auth itself and calls the function above for the caller's team.

export const listV1Datasets = restRoute((ctx, req) => listDatasetsV1(ctx, new URL(req.url)));
export const createV1Dataset = restRoute((ctx, req, route) => createDatasetV1(req, ctx, importQueue(route)), { multipart: true });
export const getV1Dataset = v1RecordRoute("Dataset", (ctx, id) => getDatasetV1(ctx, id));
export const updateV1Dataset = v1RecordRoute("Dataset", (ctx, id, req) => updateDatasetV1(req, ctx, id));
export const deleteV1Dataset = v1RecordRoute("Dataset", (ctx, id) => deleteDatasetV1(ctx, id));
export const previewV1Dataset = v1RecordRoute("Dataset", (ctx, id, req) => previewDatasetV1(ctx, id, new URL(req.url)));
