import { z } from "zod";
import { hyperparametersSchema } from "@/server/experiments/schemas";

const id = z.number().int().positive();

export const saveTrainingConfigInput = z.object({
  projectId: id,
  name: z.string().trim().min(1, "required").max(120, "at most 120 characters"),
  hyperparameters: hyperparametersSchema,
});
export const trainingConfigByIdInput = z.object({ id });
export const listTrainingConfigsInput = z.object({ projectId: id.optional() }).default({});
