// Reading a validation's per-image results: the confusion matrix its images add up to, the images behind
// a cell, and the images with a given class and outcome at a chosen confidence, each with every box judged.

import { and, asc, desc, eq, gte, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { validationConfusion, validationOutcomes, validationPredictions } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Invalid, NotFound, parseInput } from "@/server/errors";
import { getValidation, type ValidationRow } from "@/server/weights/validate";
import { ensureOutcomes } from "./outcomes";
import { cellInput, imageInput, predictionsInput, type CellInput, type OutcomeFilter, type PredictionsInput } from "./schemas";

type Xyxy = [number, number, number, number];

/** One image as the error-analysis views draw it, judged at a confidence. */
export interface JudgedImage {
  predictionId: number;
  datasetId: number | null;
  datasetItemId: number | null;
  path: string;
  width: number;
  height: number;
  /** Detection: the boxes at or above the confidence, each a TP (with the labelled box it found) or an FP. */
  boxes: { cls: number; confidence: number; box: Xyxy; outcome: "tp" | "fp"; iou: number | null; matchedBox: Xyxy | null }[];
  /** Detection: every labelled box, and whether a box at or above the confidence found it (else an FN). */
  truths: { cls: number; box: Xyxy; found: boolean }[];
  /** Classification: the true class, the top-5 (best first) and whether top-1 is right. */
  label: number | null;
  top: { cls: number; score: number }[];
  correct: boolean | null;
}

export interface ImagePage {
  total: number;
  page: number;
  pageSize: number;
  items: JudgedImage[];
}

/** A validation of the caller's team that has finished, with its outcomes derived if it predates them. */
export async function completedValidation(ctx: Ctx, id: number): Promise<ValidationRow> {
  const row = await getValidation(ctx, id);
  if (row.status !== "completed") throw new Invalid(`Validation ${id} is ${row.status}: its per-image results exist once it completes`, { validationId: [row.status] });
  await ensureOutcomes(ctx.db, id);
  return row;
}

/** The outcome rows that make an image match a class/outcome filter at `conf`. */
export function outcomeCondition(task: string, conf: number, cls: number | undefined, outcome: OutcomeFilter | undefined): SQL | undefined {
  const o = validationOutcomes;
  const ofClass = (column: typeof o.cls | typeof o.predictedCls) => (cls === undefined ? undefined : eq(column, cls));
  if (task === "classify") {
    if (outcome === "tp") return and(eq(o.kind, "label"), eq(o.matched, true), ofClass(o.cls));
    if (outcome === "fn") return and(eq(o.kind, "label"), eq(o.matched, false), ofClass(o.cls));
    if (outcome === "fp") return and(eq(o.kind, "label"), eq(o.matched, false), ofClass(o.predictedCls));
    return cls === undefined ? undefined : or(eq(o.cls, cls), eq(o.predictedCls, cls));
  }
  const kept = and(eq(o.kind, "box"), gte(o.confidence, conf));
  const tp = and(kept, eq(o.matched, true), ofClass(o.cls));
  const fp = and(kept, eq(o.matched, false), ofClass(o.cls));
  const fn = and(eq(o.kind, "truth"), or(isNull(o.confidence), lt(o.confidence, conf)), ofClass(o.cls));
  if (outcome === "tp") return tp;
  if (outcome === "fp") return fp;
  if (outcome === "fn") return fn;
  return cls === undefined ? undefined : or(and(kept, eq(o.cls, cls)), and(eq(o.kind, "truth"), eq(o.cls, cls)));
}

/** Judges the given stored images at `conf`, in the order given. */
export async function judgeImages(ctx: Ctx, validation: ValidationRow, predictionIds: number[], conf: number): Promise<JudgedImage[]> {
  if (predictionIds.length === 0) return [];
  const [images, outcomes] = await Promise.all([
    ctx.db.select().from(validationPredictions).where(and(eq(validationPredictions.validationId, validation.id), inArray(validationPredictions.id, predictionIds))),
    ctx.db
      .select()
      .from(validationOutcomes)
      .where(and(eq(validationOutcomes.validationId, validation.id), inArray(validationOutcomes.predictionId, predictionIds)))
      .orderBy(asc(validationOutcomes.id)),
  ]);
  const byImage = new Map<number, JudgedImage>();
  for (const image of images) {
    byImage.set(image.id, {
      predictionId: image.id,
      datasetId: validation.datasetId,
      datasetItemId: image.datasetItemId,
      path: image.path,
      width: image.width,
      height: image.height,
      boxes: [],
      truths: [],
      label: image.truth.label ?? null,
      top: image.predicted.top ?? [],
      correct: validation.task === "classify" ? (image.predicted.top?.[0]?.cls ?? null) === (image.truth.label ?? null) : null,
    });
  }
  for (const o of outcomes) {
    const image = byImage.get(o.predictionId)!;
    if (o.kind === "box" && o.confidence !== null && o.confidence >= conf) {
      image.boxes.push({ cls: o.cls, confidence: o.confidence, box: o.box!, outcome: o.matched ? "tp" : "fp", iou: o.iou, matchedBox: o.matchedBox });
    }
    if (o.kind === "truth") image.truths.push({ cls: o.cls, box: o.box!, found: o.confidence !== null && o.confidence >= conf });
  }
  for (const image of byImage.values()) image.boxes.sort((a, b) => b.confidence - a.confidence);
  return predictionIds.map((id) => byImage.get(id)).filter((image): image is JudgedImage => image !== undefined);
}

function checkClass(validation: ValidationRow, cls: number | undefined, field: string, background = false): void {
  const limit = validation.classNames.length + (background && validation.task === "detect" ? 1 : 0);
  if (cls !== undefined && cls >= limit) throw new Invalid(`${field} ${cls}: the validation has classes 0..${limit - 1}`, { [field]: [`outside 0..${limit - 1}`] });
}

/** The images of a validation (or the one at `image`) that have `cls` and `outcome` at `conf` (any when unset), by path, paged. */
export async function listPredictions(ctx: Ctx, rawInput: PredictionsInput): Promise<ImagePage & { validation: ValidationRow }> {
  const input = parseInput(predictionsInput, rawInput);
  const validation = await completedValidation(ctx, input.validationId);
  checkClass(validation, input.cls, "cls");
  const condition = outcomeCondition(validation.task, input.conf, input.cls, input.outcome);
  const p = validationPredictions;
  const filter = condition
    ? inArray(p.id, ctx.db.selectDistinct({ id: validationOutcomes.predictionId }).from(validationOutcomes).where(and(eq(validationOutcomes.validationId, validation.id), condition)))
    : undefined;
  const rows = await ctx.db
    .select({ id: p.id, total: sql<number>`count(*) over ()`.mapWith(Number) })
    .from(p)
    .where(and(eq(p.validationId, validation.id), input.image === undefined ? undefined : eq(p.path, input.image), filter))
    .orderBy(asc(p.path), asc(p.id))
    .limit(input.pageSize)
    .offset((input.page - 1) * input.pageSize);
  const total = rows[0]?.total ?? (input.page > 1 ? await countImages(ctx, validation.id, and(input.image === undefined ? undefined : eq(p.path, input.image), filter)) : 0);
  return { validation, total, page: input.page, pageSize: input.pageSize, items: await judgeImages(ctx, validation, rows.map((r) => r.id), input.conf) };
}

async function countImages(ctx: Ctx, validationId: number, filter: SQL | undefined): Promise<number> {
  const [row] = await ctx.db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(validationPredictions)
    .where(and(eq(validationPredictions.validationId, validationId), filter));
  return row.n;
}

/** The confusion matrix the stored cells add up to: [predicted][actual], detection with background last. */
export async function confusionMatrix(ctx: Ctx, validationId: number) {
  const validation = await completedValidation(ctx, validationId);
  const size = validation.classNames.length + (validation.task === "detect" ? 1 : 0);
  const matrix = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const cells = await ctx.db
    .select({ predicted: validationConfusion.predicted, actual: validationConfusion.actual, n: sql<number>`sum(${validationConfusion.count})`.mapWith(Number) })
    .from(validationConfusion)
    .where(eq(validationConfusion.validationId, validationId))
    .groupBy(validationConfusion.predicted, validationConfusion.actual);
  for (const cell of cells) matrix[cell.predicted][cell.actual] = cell.n;
  const labels = validation.task === "detect" ? [...validation.classNames, "background"] : validation.classNames;
  return { validation, labels, matrix };
}

/** The images behind one confusion cell, the ones adding most to it first. */
export async function cellImages(ctx: Ctx, rawInput: CellInput): Promise<ImagePage> {
  const input = parseInput(cellInput, rawInput);
  const validation = await completedValidation(ctx, input.validationId);
  checkClass(validation, input.predicted, "predicted", true);
  checkClass(validation, input.actual, "actual", true);
  const c = validationConfusion;
  const where = and(eq(c.validationId, validation.id), eq(c.predicted, input.predicted), eq(c.actual, input.actual));
  const rows = await ctx.db
    .select({ id: c.predictionId, total: sql<number>`count(*) over ()`.mapWith(Number) })
    .from(c)
    .innerJoin(validationPredictions, eq(validationPredictions.id, c.predictionId))
    .where(where)
    .orderBy(desc(c.count), asc(validationPredictions.path))
    .limit(input.pageSize)
    .offset((input.page - 1) * input.pageSize);
  const total = rows[0]?.total ?? (await ctx.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(c).where(where))[0].n;
  return { total, page: input.page, pageSize: input.pageSize, items: await judgeImages(ctx, validation, rows.map((r) => r.id), input.conf) };
}

/** One stored image of a validation, judged at `conf`. */
export async function judgedImage(ctx: Ctx, rawInput: z.input<typeof imageInput>): Promise<JudgedImage> {
  const input = parseInput(imageInput, rawInput);
  const validation = await completedValidation(ctx, input.validationId);
  const [image] = await judgeImages(ctx, validation, [input.predictionId], input.conf);
  if (!image) throw new NotFound(`Image ${input.predictionId} is not in validation ${input.validationId}`);
  return image;
}
