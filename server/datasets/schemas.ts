import { z } from "zod";
import { datasetSplitNames } from "@/db/schema";
import { freeText, INT32_MAX, nameText, recordId } from "@/server/http/input";

export const datasetName = nameText(100).refine((v) => !/[/\\]/.test(v), "no slashes");

const share = z.number().min(0, "must be ≥ 0").max(1, "must be ≤ 1");

export const SPLIT_SUM_MESSAGE = "train + val + test must be 1";

/** Train/val/test shares: a dataset's split, or a run's own split of its dataset (the dataset keeps its). */
export const splitRatiosInput = z
  .object({ train: share.refine((v) => v > 0, "must be > 0"), val: share, test: share })
  .refine((r) => Math.abs(r.train + r.val + r.test - 1) < 1e-6, { message: SPLIT_SUM_MESSAGE, path: ["train"] });

export const importFromPathInput = z.object({
  projectId: recordId,
  name: datasetName,
  description: freeText(2000).default(""),
  path: freeText(4096).min(1, "required"),
  ratios: splitRatiosInput.optional(),
  seed: z.number().int().min(0).max(INT32_MAX).optional(),
});

export const updateDatasetInput = z.object({
  id: recordId,
  name: datasetName.optional(),
  description: freeText(2000).optional(),
});

export const datasetByIdInput = z.object({ id: recordId });
export const importFailureByIdInput = z.object({ id: recordId });
export const listDatasetsInput = z.object({ projectId: recordId.optional() }).default({});

export const previewInput = z.object({
  id: recordId,
  page: z.number().int().min(1).max(1_000_000).default(1),
  limit: z.number().int().min(1).max(200).default(24),
  split: z.enum(datasetSplitNames).optional(),
  /** Class index: images of that class (classify) or containing it (detect). */
  classId: z.number().int().min(0).optional(),
});

export const resplitInput = z.discriminatedUnion("source", [
  z.object({ id: recordId, source: z.literal("ratios"), ratios: splitRatiosInput, seed: z.number().int().min(0).max(INT32_MAX) }),
  z.object({ id: recordId, source: z.literal("folders") }),
]);
