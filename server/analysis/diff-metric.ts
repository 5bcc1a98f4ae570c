// The change of the headline metric between two models on their paired images, with a seeded paired
// bootstrap 95% interval. It runs on the web server's event loop, so every step of it is sliced (see
// inSlices in bootstrap.ts), and its answer is kept for the pair of finished validations.

import { and, eq, inArray, sql } from "drizzle-orm";
import type { z } from "zod";
import { validationOutcomes, validationPredictions } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Invalid, parseInput } from "@/server/errors";
import type { ValidationRow } from "@/server/weights/validate";
import { bootstrapInterval, inSlices, judgedClass, weightedMap50, type ClassBoxes, type JudgedBoxes } from "./bootstrap";
import { sides } from "./diff";
import { diffMetricInput, refOf, type DiffMetricInput } from "./schemas";

export interface DiffMetric {
  name: "top1_acc" | "mAP50";
  a: number;
  b: number;
  delta: number;
  ci95: [number, number];
  resamples: number;
  seed: number;
  images: number;
}

// A completed validation's rows never change; a re-run of the same validation (a retried job) rewrites
// them and sets a new finish time, which is part of the key. Entries are a few numbers. In flight the
// promise is shared, so two tabs asking at once compute once.
const METRIC_CACHE_ENTRIES = 256;
const metricCache = new Map<string, Promise<DiffMetric>>();

const validationKey = (v: ValidationRow) => `${v.id}@${v.finishedAt?.getTime() ?? "unfinished"}`;

/**
 * The headline metric of both models on their paired images (detection mAP50, classification top-1
 * accuracy, both from the stored per-image results), and a seeded paired bootstrap 95% interval of B − A.
 */
export async function diffMetric(ctx: Ctx, rawInput: DiffMetricInput): Promise<DiffMetric> {
  const input = parseInput(diffMetricInput, rawInput);
  // On every call, cached or not: sides() reads both validations through the caller's team.
  const { va, vb } = await sides(ctx, refOf(input.a), refOf(input.b), input.split);
  const key = [validationKey(va), validationKey(vb), input.split, input.resamples, input.seed].join("|");
  let answer = metricCache.get(key);
  if (answer) {
    metricCache.delete(key);
  } else {
    const computing = computeMetric(ctx, va, vb, input);
    computing.catch(() => metricCache.get(key) === computing && metricCache.delete(key));
    answer = computing;
  }
  metricCache.set(key, answer);
  if (metricCache.size > METRIC_CACHE_ENTRIES) metricCache.delete(metricCache.keys().next().value!);
  const metric = await answer;
  return { ...metric, ci95: [...metric.ci95] };
}

async function computeMetric(ctx: Ctx, va: ValidationRow, vb: ValidationRow, input: z.output<typeof diffMetricInput>): Promise<DiffMetric> {
  const [ia, ib] = await Promise.all([imagesOf(ctx, va), imagesOf(ctx, vb)]);
  const paths = [...ia.keys()].filter((path) => ib.has(path)).sort();
  const opts = { resamples: input.resamples, seed: input.seed };
  const n = paths.length;
  if (n === 0) throw new Invalid("The two validations share no image: validate both on the same split of the same dataset", { split: ["no shared images"] });
  // The paired image index of each side's validation_predictions ids.
  const indexOf = (images: Map<string, number>) => new Map(paths.map((path, i) => [images.get(path)!, i]));
  if (va.task === "classify") {
    const right = async (v: ValidationRow, images: Map<string, number>) => {
      const matched = new Map((await labelRows(ctx, v)).map((row) => [row.predictionId, row.matched]));
      return Uint8Array.from(paths.map((path) => (matched.get(images.get(path)!) ? 1 : 0)));
    };
    const [xa, xb] = await Promise.all([right(va, ia), right(vb, ib)]);
    const accuracy = (x: Uint8Array, w?: Uint32Array) => x.reduce((sum, v, i) => sum + v * (w ? w[i] : 1), 0) / n;
    const a = accuracy(xa);
    const b = accuracy(xb);
    return { name: "top1_acc", a, b, delta: b - a, ci95: await bootstrapInterval(n, (w) => accuracy(xb, w) - accuracy(xa, w), opts), ...opts, images: n };
  }
  const numClasses = va.classNames.length;
  const judged = async (v: ValidationRow, images: Map<string, number>): Promise<JudgedBoxes> => {
    const { boxes, truths } = await detectionColumns(ctx, v, indexOf(images), numClasses);
    return { numClasses, images: n, byClass: await inSlices(numClasses, (c) => judgedClass(boxes[c], truths[c], n)) };
  };
  const [ja, jb] = await Promise.all([judged(va, ia), judged(vb, ib)]);
  const a = weightedMap50(ja);
  const b = weightedMap50(jb);
  return { name: "mAP50", a, b, delta: b - a, ci95: await bootstrapInterval(n, (w) => weightedMap50(jb, w) - weightedMap50(ja, w), opts), ...opts, images: n };
}

/** A validation's images: path → validation_predictions id. */
async function imagesOf(ctx: Ctx, validation: ValidationRow): Promise<Map<string, number>> {
  const images = await ctx.db.select({ id: validationPredictions.id, path: validationPredictions.path }).from(validationPredictions).where(eq(validationPredictions.validationId, validation.id));
  return new Map(images.map((image) => [image.path, image.id]));
}

function labelRows(ctx: Ctx, validation: ValidationRow) {
  const o = validationOutcomes;
  return ctx.db
    .select({ predictionId: o.predictionId, matched: o.matched })
    .from(o)
    .where(and(eq(o.validationId, validation.id), eq(o.kind, "label")));
}

/**
 * A detection validation's boxes and labelled boxes on the paired images, per class, each in stored order.
 * PostgreSQL packs a class's rows into three strings: read one by one, 150k rows cost the event loop
 * seconds (a row object from the driver, another from drizzle), the strings tens of milliseconds. The
 * scores are what the row-by-row read gives: `real::text` is the text the driver receives for a real
 * column, and both are read with Number.
 */
async function detectionColumns(ctx: Ctx, validation: ValidationRow, imageOf: Map<number, number>, numClasses: number) {
  const o = validationOutcomes;
  const rows = await ctx.db
    .select({
      kind: o.kind,
      cls: o.cls,
      predictionIds: sql<string>`string_agg(${o.predictionId}::text, ',' order by ${o.id})`,
      scores: sql<string>`string_agg(coalesce(${o.confidence}::text, '0'), ',' order by ${o.id})`,
      hits: sql<string>`string_agg(case when ${o.matched} then '1' else '0' end, '' order by ${o.id})`,
    })
    .from(o)
    .where(and(eq(o.validationId, validation.id), inArray(o.kind, ["box", "truth"])))
    .groupBy(o.kind, o.cls);
  const boxes = Array.from({ length: numClasses }, (): ClassBoxes & { image: number[]; score: number[]; hit: number[] } => ({ image: [], score: [], hit: [] }));
  const truths = Array.from({ length: numClasses }, () => [] as number[]);
  await inSlices(rows.length, (r) => {
    const { kind, cls, predictionIds, scores, hits } = rows[r];
    // A class outside the validation's list counts for no class.
    if (cls < 0 || cls >= numClasses) return;
    const ids = predictionIds.split(",");
    if (kind === "truth") {
      for (const id of ids) {
        const image = imageOf.get(Number(id));
        if (image !== undefined) truths[cls].push(image);
      }
      return;
    }
    const score = scores.split(",");
    const mine = boxes[cls];
    for (let k = 0; k < ids.length; k++) {
      const image = imageOf.get(Number(ids[k]));
      if (image === undefined) continue;
      mine.image.push(image);
      mine.score.push(Number(score[k]));
      mine.hit.push(hits.charCodeAt(k) === 49 ? 1 : 0);
    }
  });
  return { boxes, truths };
}
