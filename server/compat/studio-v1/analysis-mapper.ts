import { z } from "zod";
import type { JudgedImage } from "@/server/analysis/predictions";
import { analysisSplit, modelRef, outcomeFilter, refOf, type ModelRef } from "@/server/analysis/schemas";
import { round } from "@/server/compat/shared/experiment-common";
import { Invalid, invalidFromZod, NotFound } from "@/server/errors";

/**
 * Error analysis for scripts (an extension of seed 002's `/api/v1/experiments`): per-image predictions
 * and the two-model diff. Where an experiment id goes, `w<id>` names a weights entry instead.
 */

/** A path segment naming an experiment (12) or a weights entry (w12); anything else is a 404 as for any id. */
export function parseModelRefSegment(value: string): ModelRef {
  const parsed = modelRef.safeParse(value);
  if (!parsed.success) throw new NotFound(`Experiment or weights ${value} not found: name an experiment by its id (12) or weights by theirs with a w in front (w12)`);
  return refOf(parsed.data);
}

const numberText = (schema: z.ZodNumber) => z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), schema);

export const predictionsQuery = z.object({
  split: analysisSplit,
  image: z.string().max(1000).optional(),
  class: z.string().max(200).optional(),
  outcome: outcomeFilter.optional(),
  conf: numberText(z.number().min(0).max(1)).default(0.25),
  page: numberText(z.number().int().min(1).max(100_000)).default(1),
  page_size: numberText(z.number().int().min(1).max(200)).default(50),
});

export const diffQuery = z.object({
  split: analysisSplit,
  conf: numberText(z.number().min(0).max(1)).default(0.25),
  seed: numberText(z.number().int().min(0).max(2_147_483_647)).default(0),
  resamples: numberText(z.number().int().min(100).max(10_000)).default(1000),
});

function queryOf(url: string): Record<string, string> {
  const params = new URL(url).searchParams;
  return Object.fromEntries([...params.keys()].map((key) => [key, params.get(key) ?? ""]).filter(([, value]) => value !== ""));
}

export function parsePredictionsQuery(url: string) {
  const parsed = predictionsQuery.safeParse(queryOf(url));
  if (!parsed.success) throw invalidFromZod(parsed.error.issues);
  return parsed.data;
}

export function parseDiffQuery(url: string) {
  const parsed = diffQuery.safeParse(queryOf(url));
  if (!parsed.success) throw invalidFromZod(parsed.error.issues);
  return parsed.data;
}

/** `class=` by name (as the items name classes), or by index. */
export function classIndexOf(classNames: string[], value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const byName = classNames.indexOf(value);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(value) && Number(value) < classNames.length) return Number(value);
  throw new Invalid(`class ${value} is none of the validation's classes (${classNames.join(", ")})`, { class: ["unknown class"] });
}

const r4 = (v: number) => round(v, 4);
const r2 = (box: number[]) => box.map((v) => round(v, 2));

/** Classification `{image, true, pred, confidence, top_k}`; detection `{image, boxes, missed}`, class names throughout. */
export function studioV1PredictionItem(task: string, classNames: string[], image: JudgedImage) {
  const name = (cls: number) => classNames[cls] ?? String(cls);
  if (task === "classify") {
    const top = image.top[0];
    return {
      image: image.path,
      true: image.label === null ? null : name(image.label),
      pred: top ? name(top.cls) : null,
      confidence: top ? r4(top.score) : null,
      top_k: image.top.map((t) => ({ name: name(t.cls), confidence: r4(t.score) })),
    };
  }
  return {
    image: image.path,
    boxes: image.boxes.map((b) => ({ name: name(b.cls), confidence: r4(b.confidence), box: r2(b.box), outcome: b.outcome, iou: b.iou === null ? null : r4(b.iou), gt_box: b.matchedBox && r2(b.matchedBox) })),
    missed: image.truths.filter((t) => !t.found).map((t) => ({ name: name(t.cls), box: r2(t.box) })),
  };
}
