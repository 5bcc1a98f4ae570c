import { z } from "zod";
import { hyperparametersSchema } from "@/server/experiments/schemas";
import { nameText, recordId } from "@/server/http/input";

const id = recordId;

export const saveTrainingConfigInput = z
  .object({
    projectId: id,
    name: nameText(120),
    hyperparameters: hyperparametersSchema,
    /** Optional: the model the template trains, a zoo model name or an architecture id (not both). */
    model: nameText(200).nullable().optional(),
    architectureId: id.nullable().optional(),
    device: nameText(40).nullable().optional(),
    /** A pipeline of our ops (checked by the service), or none. */
    augmentation: z.array(z.unknown()).max(64).nullable().default(null),
    /** Settings kept as an old client gave them. */
    extra: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((v) => v.model == null || v.architectureId == null, { message: "choose either a zoo model or an architecture", path: ["model"] });
export const trainingConfigByIdInput = z.object({ id });
export const listTrainingConfigsInput = z.object({ projectId: id.optional() }).default({});
