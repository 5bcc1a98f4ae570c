import { and, asc, eq, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { augmentations, datasetItems, projects } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Conflict, Invalid, isForeignKeyViolation, isUniqueViolation, NotFound, parseInput } from "@/server/errors";
import { applyPipeline, createRng, formatPipelineIssue, validatePipeline, type AugmentPipeline } from "@/server/ml/augment";
import { foreignOpName } from "@/server/ml/augment/foreign";
import { decodeImage, encodeJpeg, resizeTo } from "@/server/ml/data/image";
import { getDataset } from "@/server/datasets/queries";
import { itemFile } from "@/server/datasets/storage";
import { getProject } from "@/server/projects/service";
import { createAugmentationInput, listAugmentationsInput, previewAugmentationInput, updateAugmentationInput } from "./schemas";

/** Parses a pipeline with the engine's op library; each problem becomes a field error like `pipeline[2].p`. */
export function checkPipeline(json: unknown): AugmentPipeline {
  const result = validatePipeline(json);
  if (result.ok) return result.pipeline;
  const fields: Record<string, string[]> = {};
  for (const issue of result.errors) {
    const key = formatPipelineIssue(issue).split(": ")[0];
    (fields[key] ??= []).push(issue.message);
  }
  throw new Invalid(`Invalid augmentation pipeline: ${result.errors.map(formatPipelineIssue).join("; ")}`, fields);
}

/**
 * How a pipeline is kept. The studio refuses a pipeline the op library cannot run; seed 002 stores
 * what its client sent ("后端直接存储，训练时解析") and flags what training will refuse.
 */
export type PipelineStorage = "checked" | "as-sent";

export interface PipelineFlag {
  index: number;
  op: string | null;
  problem: string;
}

/** What training would refuse in a stored pipeline, by the client's positions. */
export function pipelineFlags(json: unknown): PipelineFlag[] {
  const result = validatePipeline(json);
  if (result.ok) return [];
  return result.errors.map((e) => ({ index: e.index, op: Array.isArray(json) && e.index >= 0 ? (foreignOpName(json[e.index]) ?? null) : null, problem: formatPipelineIssue(e) }));
}

function pipelineToStore(json: unknown, storage: PipelineStorage): unknown[] {
  if (storage === "checked") return checkPipeline(json);
  if (!Array.isArray(json)) throw new Invalid("pipeline must be a list of ops", { pipeline: ["must be a list"] });
  return json;
}

const duplicateName = (name: string) => new Conflict(`An augmentation pipeline named "${name}" already exists in this project`, { name: ["already taken"] });

export async function listAugmentations(ctx: Ctx, rawInput: z.input<typeof listAugmentationsInput> = {}) {
  const input = parseInput(listAugmentationsInput, rawInput);
  const where: SQL[] = [eq(projects.teamId, ctx.caller.teamId)];
  if (input.projectId) where.push(eq(augmentations.projectId, input.projectId));
  const rows = await ctx.db
    .select({ augmentation: augmentations })
    .from(augmentations)
    .innerJoin(projects, eq(projects.id, augmentations.projectId))
    .where(and(...where))
    .orderBy(asc(augmentations.name));
  return rows.map((r) => r.augmentation);
}

export async function getAugmentation(ctx: Ctx, id: number) {
  const [row] = await ctx.db
    .select({ augmentation: augmentations })
    .from(augmentations)
    .innerJoin(projects, eq(projects.id, augmentations.projectId))
    .where(and(eq(augmentations.id, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Augmentation pipeline ${id} not found`);
  return row.augmentation;
}

export async function createAugmentation(ctx: Ctx, rawInput: z.input<typeof createAugmentationInput>, storage: PipelineStorage = "checked") {
  requireRole(ctx, "member");
  const input = parseInput(createAugmentationInput, rawInput);
  await getProject(ctx, input.projectId);
  const pipeline = pipelineToStore(input.pipeline, storage);
  try {
    const [row] = await ctx.db
      .insert(augmentations)
      .values({ projectId: input.projectId, name: input.name, description: input.description, pipeline, createdBy: ctx.caller.userId })
      .returning();
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateName(input.name);
    throw err;
  }
}

export async function updateAugmentation(ctx: Ctx, rawInput: z.input<typeof updateAugmentationInput>, storage: PipelineStorage = "checked") {
  requireRole(ctx, "member");
  const input = parseInput(updateAugmentationInput, rawInput);
  const current = await getAugmentation(ctx, input.id);
  const pipeline = input.pipeline === undefined ? current.pipeline : pipelineToStore(input.pipeline, storage);
  try {
    const [row] = await ctx.db
      .update(augmentations)
      .set({ name: input.name ?? current.name, description: input.description ?? current.description, pipeline, updatedAt: new Date() })
      .where(eq(augmentations.id, current.id))
      .returning();
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateName(input.name ?? current.name);
    throw err;
  }
}

export async function deleteAugmentation(ctx: Ctx, id: number) {
  requireRole(ctx, "member");
  const current = await getAugmentation(ctx, id);
  try {
    await ctx.db.delete(augmentations).where(eq(augmentations.id, current.id));
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new Conflict(`Augmentation pipeline ${current.name} is used by experiments`, { id: ["in use"] });
    throw err;
  }
}

/** Longer side of preview images: enough to judge an augmentation, small enough for data URLs. */
const PREVIEW_SIZE = 192;

async function loadPreviewImage(file: string) {
  const img = await decodeImage(file);
  const scale = Math.min(1, PREVIEW_SIZE / Math.max(img.width, img.height));
  return scale < 1 ? resizeTo(img, Math.max(1, Math.round(img.width * scale)), Math.max(1, Math.round(img.height * scale))) : img;
}

const dataUrl = (jpeg: Buffer) => `data:image/jpeg;base64,${jpeg.toString("base64")}`;

/**
 * Renders the pipeline on the dataset's first sample images: the original and `variants` augmented
 * copies each, with boxes moved by the same transforms (detection). Same seed, same pictures.
 */
export async function previewAugmentation(ctx: Ctx, rawInput: z.input<typeof previewAugmentationInput>) {
  const input = parseInput(previewAugmentationInput, rawInput);
  const pipeline = checkPipeline(input.pipeline);
  const dataset = await getDataset(ctx, input.datasetId);
  if (dataset.status !== "ready") throw new Conflict(`Dataset ${dataset.name} is not ready (status ${dataset.status})`);
  const items = await ctx.db
    .select({ id: datasetItems.id, path: datasetItems.path, boxes: datasetItems.boxes, label: datasetItems.label })
    .from(datasetItems)
    .where(eq(datasetItems.datasetId, dataset.id))
    .orderBy(asc(datasetItems.path))
    .limit(input.samples);
  const rng = createRng(input.seed);
  const samples = [];
  for (const item of items) {
    const original = await loadPreviewImage(itemFile(dataset.id, item.path));
    const boxes = item.boxes ?? [];
    const variants = [];
    for (let v = 0; v < input.variants; v++) {
      const out = applyPipeline(original, pipeline, rng.fork(`${item.id}:${v}`), boxes);
      variants.push({ image: dataUrl(await encodeJpeg(out.img, 85)), width: out.img.width, height: out.img.height, boxes: out.boxes });
    }
    samples.push({
      itemId: item.id,
      path: item.path,
      label: item.label,
      original: { image: dataUrl(await encodeJpeg(original, 85)), width: original.width, height: original.height, boxes },
      variants,
    });
  }
  return { task: dataset.task, classes: dataset.classes, seed: input.seed, samples };
}
