// The old studio dialect (seed 002 §2.3, `/api/v1/augmentation`): `{name, desc, pipeline}`.

import { z } from "zod";
import { readJson, withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { parsePathId } from "@/server/http/input";
import type { Ctx } from "@/server/context";
import { parseInput } from "@/server/errors";
import { defaultProject } from "@/server/projects/service";
import { augmentationName } from "@/server/augmentations/schemas";
import { createAugmentation, deleteAugmentation, getAugmentation, listAugmentations, pipelineFlags, updateAugmentation } from "@/server/augmentations/service";
import { isoSecondsZ } from "@/server/compat/shared/experiment-common";
import { restError } from "@/server/http/rest-error";

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
  return new Response(null, { status: 204 });
}

export async function deleteAugmentationV1(ctx: Ctx, id: number) {
  await deleteAugmentation(ctx, id);
  return new Response(null, { status: 204 });
}

// The route handlers: each wraps auth itself and calls the function above for the caller's team.

export function listV1Augmentations(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, (ctx) => listAugmentationsV1(ctx), { db: route.db });
}

export function createV1Augmentation(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, (ctx) => createAugmentationV1(req, ctx), { db: route.db });
}

export async function updateV1Augmentation(req: Request, route: RouteContext<"id">): Promise<Response> {
  const { id } = await route.params;
  return withCaller(req, restError, (ctx) => updateAugmentationV1(req, ctx, parsePathId(id, "Augmentation pipeline")), { db: route.db });
}

export async function deleteV1Augmentation(req: Request, route: RouteContext<"id">): Promise<Response> {
  const { id } = await route.params;
  return withCaller(req, restError, (ctx) => deleteAugmentationV1(ctx, parsePathId(id, "Augmentation pipeline")), { db: route.db });
}
