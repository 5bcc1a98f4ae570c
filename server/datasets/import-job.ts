import { z } from "zod";
import { defineJob, NO_RETRY } from "@/server/jobs/registry";

const importSourceSchema = z.discriminatedUnion("kind", [
  /** An uploaded archive staged under STUDIO_DATA_DIR/tmp; deleted once the import ends. */
  z.object({ kind: z.literal("zip"), file: z.string().min(1) }),
  /** A folder on the server, already checked against the allowed roots (checked again here). */
  z.object({ kind: z.literal("path"), path: z.string().min(1) }),
]);
export type ImportSource = z.infer<typeof importSourceSchema>;

const importPayloadSchema = z.object({
  datasetId: z.number().int().positive(),
  source: importSourceSchema,
  /** Used when the dataset has no split folders of its own. */
  ratios: z.object({ train: z.number().positive(), val: z.number().min(0), test: z.number().min(0) }).optional(),
  seed: z.number().int().min(0).optional(),
});
export type ImportPayload = z.infer<typeof importPayloadSchema>;

export const datasetImportJob = defineJob({
  name: "datasets.import",
  version: 1,
  payload: importPayloadSchema,
  // A retry would find a half-written folder; the handler cleans up and reports instead.
  retry: NO_RETRY,
  expireInSeconds: 6 * 3600,
  loadHandler: async () => {
    const { runDatasetImport } = await import("./import");
    return (payload, { db }) => runDatasetImport(db, payload);
  },
});
