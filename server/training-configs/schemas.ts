import { z } from "zod";
import { hyperparametersSchema } from "@/server/experiments/schemas";

const id = z.number().int().positive();

export const saveTrainingConfigInput = z
  .object({
    projectId: id,
    name: z.string().trim().min(1, "required").max(120, "at most 120 characters"),
    hyperparameters: hyperparametersSchema,
    /** Optional: the model the template trains, a zoo model name or an architecture id (not both). */
    model: z.string().trim().min(1).nullable().optional(),
    architectureId: id.nullable().optional(),
    device: z.string().trim().min(1).nullable().optional(),
  })
  .refine((v) => v.model == null || v.architectureId == null, { message: "choose either a zoo model or an architecture", path: ["model"] });
export const trainingConfigByIdInput = z.object({ id });
export const listTrainingConfigsInput = z.object({ projectId: id.optional() }).default({});
