// Two models on the same images: which images one gets right and the other wrong, per class, and the
// change of the headline metric with a paired bootstrap interval (diff-metric.ts).
//
// "Right" for an image: classification — top-1 is the true class; detection, at confidence c — the image
// has no false positive and no false negative: every labelled box is found by a box of its class with
// IoU ≥ 0.5 and score ≥ c, and no box with score ≥ c is left unmatched (TP may be 0: an image without
// labels is right when nothing is predicted on it). Per class k the same, counting only class-k boxes,
// over the images where class k is labelled or predicted by either model.

import { and, eq, gte, or, ne } from "drizzle-orm";
import type { z } from "zod";
import { validationOutcomes, validationPredictions } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Invalid, parseInput } from "@/server/errors";
import type { ValidationRow } from "@/server/weights/validate";
import { diffImagesInput, diffInput, type DiffBucket, type DiffInput, type ModelRef, refOf } from "./schemas";
import { latestValidation, refText } from "./targets";

export interface ImageCounts {
  predictionId: number;
  tp: number;
  fp: number;
  fn: number;
  right: boolean;
  /** Classification: the true and the top-1 class. */
  label: number | null;
  predicted: number | null;
  /** Classes labelled or predicted on the image (at the confidence), and whether the image is right for each. */
  classes: Map<number, boolean>;
}

export interface DiffImage {
  path: string;
  a: Omit<ImageCounts, "classes">;
  b: Omit<ImageCounts, "classes">;
}

export interface DiffSide {
  ref: string;
  name: string;
  validationId: number;
  datasetId: number | null;
  metrics: Record<string, number> | null;
}

export const DIFF_BUCKETS: DiffBucket[] = ["regressions", "fixes", "both_wrong", "both_right"];

const bucketOf = (a: boolean, b: boolean): DiffBucket => (a && !b ? "regressions" : !a && b ? "fixes" : !a && !b ? "both_wrong" : "both_right");

/** Each image's counts at `conf`, by path. */
async function judgeAt(ctx: Ctx, validation: ValidationRow, conf: number): Promise<Map<string, ImageCounts>> {
  const o = validationOutcomes;
  const [images, rows] = await Promise.all([
    ctx.db.select({ id: validationPredictions.id, path: validationPredictions.path }).from(validationPredictions).where(eq(validationPredictions.validationId, validation.id)),
    ctx.db
      .select({ predictionId: o.predictionId, kind: o.kind, cls: o.cls, predictedCls: o.predictedCls, confidence: o.confidence, matched: o.matched })
      .from(o)
      // Boxes below the confidence do not count; the rest of the rows all do.
      .where(and(eq(o.validationId, validation.id), or(ne(o.kind, "box"), gte(o.confidence, conf)))),
  ]);
  const byId = new Map<number, ImageCounts>();
  const byPath = new Map<string, ImageCounts>();
  for (const image of images) {
    const counts: ImageCounts = { predictionId: image.id, tp: 0, fp: 0, fn: 0, right: validation.task !== "classify", label: null, predicted: null, classes: new Map() };
    byId.set(image.id, counts);
    byPath.set(image.path, counts);
  }
  for (const row of rows) {
    const c = byId.get(row.predictionId)!;
    if (row.kind === "label") {
      c.label = row.cls;
      c.predicted = row.predictedCls;
      c.right = row.matched;
      // A wrong label is a false positive of the predicted class and a false negative of the true one.
      if (row.matched) c.tp++;
      else {
        c.fp++;
        c.fn++;
      }
      c.classes.set(row.cls, row.matched);
      continue;
    }
    const error = row.kind === "box" ? !row.matched : row.confidence === null || row.confidence < conf;
    if (row.kind === "box") {
      if (row.matched) c.tp++;
      else c.fp++;
    } else if (error) c.fn++;
    if (error) c.right = false;
    c.classes.set(row.cls, (c.classes.get(row.cls) ?? true) && !error);
  }
  return byPath;
}

/** The two models' latest completed validations on a split, read through the caller's team, checked to be on the same images. */
export async function sides(ctx: Ctx, a: ModelRef, b: ModelRef, split: string) {
  const [va, vb] = await Promise.all([latestValidation(ctx, a, split, "a"), latestValidation(ctx, b, split, "b")]);
  if (va.datasetId === null || va.datasetId !== vb.datasetId) {
    throw new Invalid(`The two models were validated on different datasets (${va.datasetId ?? "deleted"} and ${vb.datasetId ?? "deleted"}): a diff needs the same images`, { b: ["validated on another dataset"] });
  }
  if (va.task !== vb.task || va.classNames.join("\u0000") !== vb.classNames.join("\u0000")) {
    throw new Invalid(`The two models do not share task and classes (${va.task} [${va.classNames.join(", ")}] and ${vb.task} [${vb.classNames.join(", ")}])`, { b: ["other task or classes"] });
  }
  const side = (ref: ModelRef, v: typeof va): DiffSide => ({ ref: refText(ref), name: v.name, validationId: v.id, datasetId: v.datasetId, metrics: v.metrics });
  return { va, vb, a: side(a, va), b: side(b, vb) };
}

/** Every paired image in its bucket, by path, plus counts overall and per class. */
export function diffModels(ctx: Ctx, rawInput: DiffInput) {
  return computeDiff(ctx, parseInput(diffInput, rawInput));
}

async function computeDiff(ctx: Ctx, input: z.output<typeof diffInput>) {
  const { va, vb, a, b } = await sides(ctx, refOf(input.a), refOf(input.b), input.split);
  const [ja, jb] = await Promise.all([judgeAt(ctx, va, input.conf), judgeAt(ctx, vb, input.conf)]);
  const buckets: Record<DiffBucket, DiffImage[]> = { regressions: [], fixes: [], both_wrong: [], both_right: [] };
  const perClass = va.classNames.map((name, cls) => ({ cls, name, regressions: 0, fixes: 0, both_wrong: 0, both_right: 0 }));
  const classImages = new Map<number, Record<DiffBucket, DiffImage[]>>();
  const paths = [...ja.keys()].filter((path) => jb.has(path)).sort();
  for (const path of paths) {
    const ia = ja.get(path)!;
    const ib = jb.get(path)!;
    const { classes: ca, ...restA } = ia;
    const { classes: cb, ...restB } = ib;
    const image: DiffImage = { path, a: restA, b: restB };
    buckets[bucketOf(ia.right, ib.right)].push(image);
    for (const cls of new Set([...ca.keys(), ...cb.keys()])) {
      const bucket = bucketOf(ca.get(cls) ?? true, cb.get(cls) ?? true);
      perClass[cls][bucket]++;
      if (!classImages.has(cls)) classImages.set(cls, { regressions: [], fixes: [], both_wrong: [], both_right: [] });
      classImages.get(cls)![bucket].push(image);
    }
  }
  const unpaired = ja.size + jb.size - 2 * paths.length;
  if (paths.length === 0) throw new Invalid("The two validations share no image: validate both on the same split of the same dataset", { split: ["no shared images"] });
  const counts = Object.fromEntries(DIFF_BUCKETS.map((bucket) => [bucket, buckets[bucket].length])) as Record<DiffBucket, number>;
  return { a, b, task: va.task, classNames: va.classNames, split: input.split, conf: input.conf, images: paths.length, unpaired, counts, perClass, buckets, classImages };
}

/** One bucket's images (overall or for one class), paged. */
export async function diffImages(ctx: Ctx, rawInput: z.input<typeof diffImagesInput>) {
  const input = parseInput(diffImagesInput, rawInput);
  const diff = await computeDiff(ctx, input);
  const list = input.cls === undefined ? diff.buckets[input.bucket] : (diff.classImages.get(input.cls)?.[input.bucket] ?? []);
  const start = (input.page - 1) * input.pageSize;
  return { a: diff.a, b: diff.b, total: list.length, page: input.page, pageSize: input.pageSize, items: list.slice(start, start + input.pageSize) };
}
