import { z } from "zod";
import { datasetSplitNames } from "@/db/schema";

export const datasetName = z
  .string()
  .trim()
  .min(1, "required")
  .max(100, "at most 100 characters")
  .regex(/^[^/\\\0]+$/, "no slashes");

export const splitRatiosInput = z
  .object({ train: z.number().min(0).max(1), val: z.number().min(0).max(1), test: z.number().min(0).max(1) })
  .refine((r) => r.train > 0, { message: "train share must be positive", path: ["train"] })
  .refine((r) => Math.abs(r.train + r.val + r.test - 1) < 1e-6, { message: "ratios must add up to 1", path: ["train"] });

export const importFromPathInput = z.object({
  projectId: z.number().int().positive(),
  name: datasetName,
  description: z.string().max(2000).default(""),
  path: z.string().min(1, "required"),
  ratios: splitRatiosInput.optional(),
  seed: z.number().int().min(0).optional(),
});

export const updateDatasetInput = z.object({
  id: z.number().int().positive(),
  name: datasetName.optional(),
  description: z.string().max(2000).optional(),
});

export const datasetByIdInput = z.object({ id: z.number().int().positive() });
export const listDatasetsInput = z.object({ projectId: z.number().int().positive().optional() }).default({});

export const previewInput = z.object({
  id: z.number().int().positive(),
  page: z.number().int().min(1).default(1),
  limit: z.number().int().min(1).max(200).default(24),
  split: z.enum(datasetSplitNames).optional(),
  /** Class index: images of that class (classify) or containing it (detect). */
  classId: z.number().int().min(0).optional(),
});

export const resplitInput = z.discriminatedUnion("source", [
  z.object({ id: z.number().int().positive(), source: z.literal("ratios"), ratios: splitRatiosInput, seed: z.number().int().min(0) }),
  z.object({ id: z.number().int().positive(), source: z.literal("folders") }),
]);
