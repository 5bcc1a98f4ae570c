import { writeFile } from "node:fs/promises";
import path from "node:path";
import { eq } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { experiments, validationPredictions, validations, weights, type WeightsMetrics } from "@/db/schema";
import { recordImageOutcomes } from "@/server/analysis/outcomes";
import { env } from "@/server/env";
import { validationPlots, writePlots } from "@/server/ml/train/plots";
import { weightsFilePath } from "./storage";
import { experimentCheckpoint, loadSplitItems, validationResultsDir } from "./validation-inputs";
import { openEngineModel, type ModelSource, type ModelTask } from "./validate-model";
import { validateItems, type ValidationOutcome } from "./validate-run";

type ValidationRow = typeof validations.$inferSelect;

/** The file a validation runs: its weights entry's, or its experiment's best checkpoint. */
async function sourceOf(db: Db, row: ValidationRow): Promise<ModelSource> {
  const base = { task: row.task as ModelTask, classNames: row.classNames };
  if (row.weightsId !== null) {
    const [entry] = await db.select().from(weights).where(eq(weights.id, row.weightsId));
    if (!entry || entry.status !== "ready") throw new Error(`weights ${row.weightsId} are gone or not ready`);
    return { ...base, file: weightsFilePath(entry.file), format: entry.format, model: entry.model, imgsz: entry.imgsz?.[0] ?? null };
  }
  const [run] = await db.select({ runDir: experiments.runDir, model: experiments.model }).from(experiments).where(eq(experiments.id, row.experimentId!));
  if (!run?.runDir) throw new Error(`experiment ${row.experimentId} has no run folder`);
  return { ...base, file: experimentCheckpoint(run.runDir), format: "ckpt", model: run.model, imgsz: null };
}

/** COCO results format: one record per box (xywh in source pixels), or per top-k class for classification. */
function cocoPredictions(outcome: ValidationOutcome) {
  return outcome.images.flatMap((image) => {
    const imageId = image.item.id ?? image.item.path;
    if (image.predicted.boxes) {
      return image.predicted.boxes.map(({ box: [x1, y1, x2, y2], score, cls }) => ({ image_id: imageId, file_name: image.item.path, category_id: cls, bbox: [x1, y1, x2 - x1, y2 - y1], score }));
    }
    return (image.predicted.top ?? []).map(({ cls, score }) => ({ image_id: imageId, file_name: image.item.path, category_id: cls, score }));
  });
}

const PREDICTION_ROWS_PER_INSERT = 500;

/** Stores an outcome on its validation row: per-image rows, plots and predictions.json, metrics. */
export async function recordOutcome(db: Db, row: ValidationRow, outcome: ValidationOutcome, runtime: string): Promise<void> {
  const resultsDir = validationResultsDir(row.id);
  const dir = path.join(env().dataDir, resultsDir);
  if (row.params.plots) {
    await writePlots(dir, validationPlots(row.task as ModelTask, row.classNames, { details: outcome.details, plots: outcome.curves ? { detectionCurves: outcome.curves } : undefined }));
  }
  if (row.params.saveJson) await writeFile(path.join(dir, "predictions.json"), JSON.stringify(cocoPredictions(outcome)));
  await db.transaction(async (tx) => {
    await tx.delete(validationPredictions).where(eq(validationPredictions.validationId, row.id));
    for (let start = 0; start < outcome.images.length; start += PREDICTION_ROWS_PER_INSERT) {
      const stored = await tx
        .insert(validationPredictions)
        .values(
          outcome.images.slice(start, start + PREDICTION_ROWS_PER_INSERT).map((image) => ({
            validationId: row.id,
            datasetItemId: image.item.id,
            path: image.item.path,
            width: image.width,
            height: image.height,
            predicted: image.predicted,
            truth: image.truth,
            correct: image.correct,
          })),
        )
        .returning({ id: validationPredictions.id, predicted: validationPredictions.predicted, truth: validationPredictions.truth });
      await recordImageOutcomes(tx, row, stored);
    }
    const finishedAt = new Date();
    await tx
      .update(validations)
      .set({
        status: "completed",
        runtime,
        images: outcome.images.length,
        metrics: outcome.metrics,
        details: outcome.details,
        speed: outcome.speed,
        resultsDir: row.params.plots || row.params.saveJson ? resultsDir : null,
        outcomesRecorded: true,
        finishedAt,
      })
      .where(eq(validations.id, row.id));
    if (row.weightsId !== null && row.purpose === "validation") {
      const metrics: WeightsMetrics = { values: outcome.metrics, source: "validation", datasetId: row.datasetId, split: row.split, validatedAt: finishedAt.toISOString() };
      await tx.update(weights).set({ metrics, updatedAt: finishedAt }).where(eq(weights.id, row.weightsId));
    }
  });
}

async function failValidation(db: DbOrTx, id: number, error: unknown): Promise<void> {
  await db
    .update(validations)
    .set({ status: "failed", error: error instanceof Error ? error.message : String(error), finishedAt: new Date() })
    .where(eq(validations.id, id));
}

/** The job's work: opens the model, runs the split, records everything; a failure is kept on the row. */
export async function runValidation(db: Db, id: number): Promise<{ validationId: number; status: string }> {
  const [row] = await db.update(validations).set({ status: "running", startedAt: new Date() }).where(eq(validations.id, id)).returning();
  if (!row) return { validationId: id, status: "missing" };
  try {
    if (row.datasetId === null) throw new Error("the dataset was deleted");
    const items = await loadSplitItems(db, row.datasetId, row.split, row.params.resplit);
    if (items.length === 0) throw new Error(`the dataset has no ${row.split} images`);
    const model = await openEngineModel(await sourceOf(db, row), { device: row.params.device, imgsz: row.params.imgsz });
    let outcome: ValidationOutcome;
    try {
      outcome = await validateItems(model, items, { batch: row.params.batch, conf: row.params.conf, iou: row.params.iou });
    } finally {
      await model.release();
    }
    await recordOutcome(db, row, outcome, model.runtime);
    return { validationId: id, status: "completed" };
  } catch (error) {
    await failValidation(db, id, error);
    return { validationId: id, status: "failed" };
  }
}

