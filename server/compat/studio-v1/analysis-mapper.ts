import { z } from "zod";
import type { JudgedImage } from "@/server/analysis/predictions";
import { analysisSplit, diffMetricInput, modelRef, predictionsInput, refOf, type ModelRef } from "@/server/analysis/schemas";
import { round } from "@/server/compat/shared/experiment-common";
import { Invalid, NotFound, parseInput } from "@/server/errors";

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

/** A query parameter read as the number the domain's rule (and default) expects. */
const numberText = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), schema);
const predictions = predictionsInput.shape;

export const predictionsQuery = z.object({
  split: analysisSplit,
  image: predictions.image,
  /** A class name or index, resolved against the validation's classes (classIndexOf). */
  class: z.string().max(200).optional(),
  outcome: predictions.outcome,
  conf: numberText(predictions.conf),
  page: numberText(predictions.page),
  page_size: numberText(predictions.pageSize.unwrap().default(50)),
});

export const diffQuery = z.object({
  split: analysisSplit,
  conf: numberText(predictions.conf),
  seed: numberText(diffMetricInput.shape.seed),
  resamples: numberText(diffMetricInput.shape.resamples),
});

function queryOf(url: string): Record<string, string> {
  const params = new URL(url).searchParams;
  return Object.fromEntries([...params.keys()].map((key) => [key, params.get(key) ?? ""]).filter(([, value]) => value !== ""));
}

export function parsePredictionsQuery(url: string) {
  return parseInput(predictionsQuery, queryOf(url));
}

export function parseDiffQuery(url: string) {
  return parseInput(diffQuery, queryOf(url));
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
