// The old studio dialect (seed 002 §2.3, `/api/v1/augmentation`): `{name, desc, pipeline}`.

import { z } from "zod";
import { readJson } from "@/server/http/handler";
import type { Ctx } from "@/server/context";
import { parseInput } from "@/server/errors";
import { defaultProject } from "@/server/projects/service";
import { augmentationName } from "@/server/augmentations/schemas";
import { createAugmentation, deleteAugmentation, getAugmentation, listAugmentations, pipelineFlags, updateAugmentation } from "@/server/augmentations/service";
import { isoSecondsZ } from "@/server/compat/shared/experiment-common";
import { noContent, restRoute } from "@/server/http/rest-route";
import { v1RecordRoute } from "./route";

/** The pipeline as the client sent it, with `unknown_ops` flagging what training will refuse. */
export function augmentationV1(row: Awaited<ReturnType<typeof getAugmentation>>) {
  return {
    id: row.id,
    name: row.name,
    desc: row.description,
    pipeline: row.pipeline,
    unknown_ops: pipelineFlags(row.pipeline),
    created_at: isoSecondsZ(row.createdAt),
    updated_at: isoSecondsZ(row.updatedAt),
  };
}

export const augmentationBody = z.object({ name: augmentationName, desc: z.string().max(2000).default(""), pipeline: z.unknown() });

export async function listAugmentationsV1(ctx: Ctx) {
  return Response.json((await listAugmentations(ctx)).map(augmentationV1));
}

export async function createAugmentationV1(req: Request, ctx: Ctx) {
  const parsed = parseInput(augmentationBody, await readJson(req));
  const row = await createAugmentation(ctx, { projectId: (await defaultProject(ctx)).id, name: parsed.name, description: parsed.desc, pipeline: parsed.pipeline ?? [] }, "as-sent");
  return Response.json(augmentationV1(row), { status: 201 });
}

/** `PUT` replaces name, desc and pipeline → 204. */
export async function updateAugmentationV1(req: Request, ctx: Ctx, id: number) {
  const parsed = parseInput(augmentationBody.partial(), await readJson(req));
  await updateAugmentation(ctx, { id, name: parsed.name, description: parsed.desc, pipeline: parsed.pipeline }, "as-sent");
  return noContent();
}

export async function deleteAugmentationV1(ctx: Ctx, id: number) {
  await deleteAugmentation(ctx, id);
  return noContent();
}

// The route handlers: each wraps auth itself and calls the function above for the caller's team.

export const listV1Augmentations = restRoute((ctx) => listAugmentationsV1(ctx));
export const createV1Augmentation = restRoute((ctx, req) => createAugmentationV1(req, ctx));
export const updateV1Augmentation = v1RecordRoute("Augmentation pipeline", (ctx, id, req) => updateAugmentationV1(req, ctx, id));
export const deleteV1Augmentation = v1RecordRoute("Augmentation pipeline", (ctx, id) => deleteAugmentationV1(ctx, id));
