import { z } from "zod";
import { parseInput } from "@/server/errors";
import { freeText, nameText, recordId } from "@/server/http/input";
import type { WeightsView } from "@/server/weights/queries";
import { weightsDescription, weightsFormat, weightsName, weightsTags } from "@/server/weights/schemas";
import { isoSecondsZ, round } from "@/server/compat/shared/experiment-common";

/**
 * Mapper for seed 002 §2.4.B (`/api/v1/models/weights…`): the weights library as the old studio's
 * model builder lists it — file size, the mAP, the linked architecture — plus what the studio knows.
 */

const MB = 1024 * 1024;

/** The document's "精度指标(mAP)": mAP50-95 of the latest validation (null for classifiers and unvalidated weights). */
export function studioV1Weights(entry: WeightsView) {
  const values = entry.metrics?.values ?? null;
  return {
    id: entry.id,
    name: entry.name,
    description: entry.description,
    format: entry.format,
    task: entry.task,
    status: entry.status,
    file_size: entry.bytes,
    file_size_mb: round(entry.bytes / MB, 2),
    sha256: entry.sha256,
    mAP: values?.mAP50_95 ?? null,
    mAP50: values?.mAP50 ?? null,
    accuracy: values?.top1_acc ?? null,
    metrics: values,
    architecture: entry.architectureName ?? entry.model,
    architecture_id: entry.architectureId,
    classes: entry.classNames,
    num_classes: entry.classNames.length,
    input_shape: entry.inputShape,
    imgsz: entry.imgsz,
    tags: entry.tags,
    experiment_id: entry.sourceExperimentId,
    epoch: entry.sourceEpoch,
    dataset_id: entry.datasetId,
    parent_id: entry.parentId,
    project_id: entry.projectId,
    download_url: `/api/v1/models/weights/${entry.id}/download`,
    created_at: isoSecondsZ(entry.createdAt),
    updated_at: isoSecondsZ(entry.updatedAt),
  };
}


export const listQuery = z.object({
  q: freeText(200).trim().optional(),
  task: nameText(40).optional(),
  format: weightsFormat.optional(),
  tag: nameText(60).optional(),
  project_id: z.coerce.number().pipe(recordId).optional(),
});

export function parseStudioV1WeightsQuery(params: URLSearchParams) {
  const query = parseInput(listQuery, Object.fromEntries(params));
  return { search: query.q || undefined, task: query.task, format: query.format, tag: query.tag, projectId: query.project_id, limit: 1000 };
}

export const importBody = z.object({
  path: freeText(4096).min(1, "required"),
  name: weightsName.optional(),
  description: weightsDescription.default(""),
  tags: weightsTags.default([]),
  project_id: recordId.optional(),
  /** The zoo model a plain state_dict is for. */
  model: nameText(120).optional(),
  architecture_id: recordId.optional(),
});

export function parseStudioV1WeightsImport(body: unknown) {
  const input = parseInput(importBody, body);
  return { path: input.path, name: input.name, description: input.description, tags: input.tags, projectId: input.project_id, model: input.model, architectureId: input.architecture_id };
}

/**
 * PUT `{tags, name, description}` ("修改标签或备注", tags or remarks): what is given changes. The remark is
 * also taken as `desc` (the word §2.3 uses) or `remark`.
 */
export const updateBody = z.object({
  name: weightsName.optional(),
  description: weightsDescription.optional(),
  desc: weightsDescription.optional(),
  remark: weightsDescription.optional(),
  tags: weightsTags.optional(),
});

export function parseStudioV1WeightsUpdate(body: unknown) {
  const input = parseInput(updateBody, body);
  return { name: input.name, description: input.description ?? input.desc ?? input.remark, tags: input.tags };
}

export const saveBody = z.object({ which: z.enum(["best", "last"], { error: 'which must be "best" or "last"' }).default("best"), name: weightsName.optional() });

/** `POST /experiments/{id}/save`: no body saves the best checkpoint; `{which: "last"}` (or `?which=last`) the last. */
export function parseStudioV1Save(body: unknown, params: URLSearchParams) {
  const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
  return parseInput(saveBody, isObject ? { which: params.get("which") ?? undefined, ...body } : body);
}
