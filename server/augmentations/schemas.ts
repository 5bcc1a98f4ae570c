import { z } from "zod";
import { freeText, INT32_MAX, nameText, recordId } from "@/server/http/input";

export const augmentationName = nameText(100);

export const createAugmentationInput = z.object({
  projectId: recordId,
  name: augmentationName,
  description: freeText(2000).default(""),
  /** Checked against the op library by the service (errors name the op's position and field). */
  pipeline: z.unknown(),
});

export const updateAugmentationInput = z.object({
  id: recordId,
  name: augmentationName.optional(),
  description: freeText(2000).optional(),
  pipeline: z.unknown().optional(),
});

export const augmentationByIdInput = z.object({ id: recordId });
export const listAugmentationsInput = z.object({ projectId: recordId.optional() }).default({});

export const previewAugmentationInput = z.object({
  datasetId: recordId,
  pipeline: z.unknown(),
  seed: z.number().int().min(0).max(INT32_MAX).default(0),
  /** Sample images (the first of the dataset, by path). */
  samples: z.number().int().min(1).max(16).default(4),
  /** Augmented variants per sample. */
  variants: z.number().int().min(1).max(8).default(3),
});
