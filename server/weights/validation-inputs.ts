import path from "node:path";
import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { datasetItems, datasets, type ValidationParams } from "@/db/schema";
import { datasetDir } from "@/server/datasets/storage";
import { stratifiedSplit } from "@/server/datasets/training";
import { CHECKPOINT_EXTENSION } from "@/server/ml/train/checkpoint";
import type { ValidationItem } from "./validate-run";

/** The images of one split, as training saw them: stored splits, or the run's own split drawn the same way. */
export async function loadSplitItems(db: DbOrTx, datasetId: number, split: string, resplit: ValidationParams["resplit"]): Promise<ValidationItem[]> {
  const [dataset] = await db.select({ task: datasets.task }).from(datasets).where(eq(datasets.id, datasetId));
  if (!dataset) return [];
  const rows = await db
    .select({ id: datasetItems.id, path: datasetItems.path, split: datasetItems.split, width: datasetItems.width, height: datasetItems.height, label: datasetItems.label, boxes: datasetItems.boxes })
    .from(datasetItems)
    .where(eq(datasetItems.datasetId, datasetId))
    // getDatasetForTraining's order: the seeded split depends on it.
    .orderBy(asc(datasetItems.path));
  if (resplit) for (const [row, assigned] of stratifiedSplit(rows, dataset.task, resplit.ratios, resplit.seed)) row.split = assigned;
  const root = datasetDir(datasetId);
  return rows
    .filter((row) => row.split === split)
    .map((row) => ({ id: row.id, file: `${root}/${row.path}`, path: row.path, width: row.width, height: row.height, label: row.label, boxes: row.boxes }));
}

/** A run's best checkpoint, else its last. */
export function experimentCheckpoint(runDir: string, which: "best" | "last" = "best"): string {
  return path.join(runDir, "weights", `${which}${CHECKPOINT_EXTENSION}`);
}

/** Where a validation's plots and predictions.json go, relative to the storage root. */
export function validationResultsDir(id: number): string {
  return path.posix.join("validations", String(id));
}
