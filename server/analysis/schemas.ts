import { z } from "zod";
import { INT32_MAX, recordId } from "@/server/http/input";

/**
 * What a diff or a predictions request names: an experiment by its id (`12`), or a weights entry by its id
 * with a `w` in front (`w12`). Each stands for its latest completed validation on the asked split.
 */
export const modelRef = z
  .string()
  .trim()
  .regex(/^w?[1-9]\d{0,9}$/, "an experiment id (12) or a weights id with a w in front (w12)")
  .refine((value) => Number(value.replace(/^w/, "")) <= INT32_MAX, `must be ≤ ${INT32_MAX}`);

export interface ModelRef {
  kind: "experiment" | "weights";
  id: number;
}

/** A checked model reference (modelRef) as what it names. */
export function refOf(value: string): ModelRef {
  return { kind: value.startsWith("w") ? "weights" : "experiment", id: Number(value.replace(/^w/, "")) };
}

export const analysisSplit = z.enum(["val", "test"]).default("val");
/** Outcomes at the chosen confidence: true positives, false positives, false negatives (missed labelled boxes / wrong labels). */
export const outcomeFilter = z.enum(["tp", "fp", "fn"]);
export type OutcomeFilter = z.infer<typeof outcomeFilter>;
/** Boxes below this are not shown or counted: Ultralytics' predict default, and its confusion matrix's threshold. */
export const DEFAULT_CONF = 0.25;
export const confidence = z.number().min(0).max(1).default(DEFAULT_CONF);
const page = z.number().int().min(1).max(100_000).default(1);
const pageSize = z.number().int().min(1).max(200).default(24);
const classIndex = z.number().int().min(0).max(10_000);

export const latestValidationInput = z.object({ ref: modelRef, split: analysisSplit });
export const validationInput = z.object({ validationId: recordId });

export const predictionsInput = z.object({
  validationId: recordId,
  /** One image, by its path in the dataset. */
  image: z.string().max(1000).optional(),
  cls: classIndex.optional(),
  outcome: outcomeFilter.optional(),
  conf: confidence,
  page,
  pageSize,
});
export type PredictionsInput = z.input<typeof predictionsInput>;

/** A confusion-matrix cell: [predicted][actual], background = the number of classes (detection). */
export const cellInput = z.object({ validationId: recordId, predicted: classIndex, actual: classIndex, conf: confidence, page, pageSize });
export type CellInput = z.input<typeof cellInput>;

export const imageInput = z.object({ validationId: recordId, predictionId: recordId, conf: confidence });

export const diffInput = z.object({
  a: modelRef,
  b: modelRef,
  split: analysisSplit,
  conf: confidence,
});
export type DiffInput = z.input<typeof diffInput>;

export const diffBucket = z.enum(["regressions", "fixes", "both_wrong", "both_right"]);
export type DiffBucket = z.infer<typeof diffBucket>;

export const diffImagesInput = diffInput.extend({ bucket: diffBucket, cls: classIndex.optional(), page, pageSize });

export const diffMetricInput = z.object({
  a: modelRef,
  b: modelRef,
  split: analysisSplit,
  seed: z.number().int().min(0).max(INT32_MAX).default(0),
  resamples: z.number().int().min(100).max(10_000).default(1000),
});
export type DiffMetricInput = z.input<typeof diffMetricInput>;

export const prCurvesInput = z.object({ ids: z.array(recordId).min(1).max(20), split: analysisSplit });
