import { z } from "zod";
import { defineJob, NO_RETRY } from "@/server/jobs/registry";

export const measureBatchPayload = z.object({
  model: z.string().min(1).max(200),
  imgsz: z.number().int().min(32).max(2048),
  numClasses: z.number().int().min(1).max(10_000),
  device: z.string().min(1).max(40),
});

/** AutoBatch's measurement of a zoo model on a training worker's device, kept in batch_measurements (optimal_config reads it). */
export const measureBatchJob = defineJob({
  name: "system.measure-batch",
  version: 1,
  payload: measureBatchPayload,
  retry: NO_RETRY,
  expireInSeconds: 900,
  loadHandler: async () => (await import("./measure-batch")).measureBatch,
});
