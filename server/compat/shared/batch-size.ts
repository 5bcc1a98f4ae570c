import { z } from "zod";
import { AUTO_BATCH } from "@/server/ml/train/config";

/** An old client's batch size: a positive count, or -1 for AutoBatch as Ultralytics' `batch=-1`. */
export const batchSizeField = (field: string) =>
  z
    .number({ error: `${field} must be a number` })
    .int({ error: `${field} must be an integer` })
    .refine((v) => v === AUTO_BATCH || v >= 1, { error: `${field} must be > 0, or -1 for AutoBatch` })
    .refine((v) => v <= 65_536, { error: `${field} must be ≤ 65536` });
