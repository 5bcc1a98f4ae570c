import { z } from "zod";
import { weightsFormats } from "@/db/schema";
import { freeText, nameText, recordId } from "@/server/http/input";

export const weightsFormat = z.enum(weightsFormats, { error: `format must be one of ${weightsFormats.join(", ")}` });
export const weightsName = nameText(200);
export const weightsDescription = freeText(2000);
/** Tags are short labels ("best", "deploy"); kept once each, in the order given. */
export const weightsTags = z
  .array(nameText(60))
  .max(50, "at most 50 tags")
  .transform((tags) => [...new Set(tags)]);

export const listWeightsInput = z
  .object({
    projectId: recordId.optional(),
    task: nameText(40).optional(),
    format: weightsFormat.optional(),
    tag: nameText(60).optional(),
    /** Matches name and description. */
    search: freeText(200).trim().optional(),
    limit: z.number().int().min(1).max(1000).default(500),
  })
  .default({ limit: 500 });

export const weightsByIdInput = z.object({ id: recordId });

export const updateWeightsInput = z.object({
  id: recordId,
  name: weightsName.optional(),
  description: weightsDescription.optional(),
  tags: weightsTags.optional(),
});

/** What an import may say besides the file itself. */
export const importMetadataInput = z.object({
  projectId: recordId,
  name: weightsName.optional(),
  description: weightsDescription.default(""),
  tags: weightsTags.default([]),
  /** The network the weights are for, when the file carries none (a plain state_dict): a zoo model name. */
  model: nameText(120).optional(),
  architectureId: recordId.optional(),
});

export const importFromPathInput = importMetadataInput.extend({ path: freeText(4096).min(1, "required") });

export const saveExperimentWeightsInput = z.object({
  experimentId: recordId,
  which: z.enum(["best", "last"]).default("best"),
  name: weightsName.optional(),
});
