import { z } from "zod";

export const augmentationName = z.string().trim().min(1, "required").max(100, "at most 100 characters");

export const createAugmentationInput = z.object({
  projectId: z.number().int().positive(),
  name: augmentationName,
  description: z.string().max(2000).default(""),
  /** Checked against the op library by the service (errors name the op's position and field). */
  pipeline: z.unknown(),
});

export const updateAugmentationInput = z.object({
  id: z.number().int().positive(),
  name: augmentationName.optional(),
  description: z.string().max(2000).optional(),
  pipeline: z.unknown().optional(),
});

export const augmentationByIdInput = z.object({ id: z.number().int().positive() });
export const listAugmentationsInput = z.object({ projectId: z.number().int().positive().optional() }).default({});

export const previewAugmentationInput = z.object({
  datasetId: z.number().int().positive(),
  pipeline: z.unknown(),
  seed: z.number().int().min(0).default(0),
  /** Sample images (the first of the dataset, by path). */
  samples: z.number().int().min(1).max(16).default(4),
  /** Augmented variants per sample. */
  variants: z.number().int().min(1).max(8).default(3),
});
