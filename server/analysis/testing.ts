// Two constructed models' predictions on the same six images (classes cat = 0, dog = 1), with their
// TP/FP/FN per image worked out by hand in the comments, for the per-image and diff tests.

import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { datasetItems, datasets, experiments, validations, type ImagePrediction, type ImageTruth } from "@/db/schema";
import { recordOutcome } from "@/server/weights/validate-work";

type Xyxy = [number, number, number, number];
const box = (b: Xyxy, cls: number, score: number) => ({ box: b, cls, score });
const gt = (b: Xyxy, cls: number) => ({ box: b, cls });

export const CLASSES = ["cat", "dog"];

export const TRUTH: Record<string, ImageTruth> = {
  "val/a.png": { boxes: [gt([10, 10, 50, 50], 0), gt([60, 60, 90, 90], 1)] },
  "val/b.png": { boxes: [gt([20, 20, 60, 60], 1)] },
  "val/c.png": { boxes: [] },
  "val/d.png": { boxes: [gt([30, 30, 70, 70], 0)] },
  "val/e.png": { boxes: [gt([10, 10, 40, 40], 1)] },
  "val/f.png": { boxes: [gt([5, 5, 45, 45], 0)] },
};

/** Model A. At conf 0.25 — a: TP 2, FP 1 (a cat where nothing is), FN 0; b: a cat on the dog: FP 1, FN 1; c: nothing, right; d: a duplicate: TP 1, FP 1; e: the dog's box scores 0.1: FN 1; f: TP 1. */
export const MODEL_A: Record<string, ImagePrediction> = {
  "val/a.png": { boxes: [box([12, 12, 50, 50], 0, 0.9), box([60, 60, 90, 90], 1, 0.3), box([0, 60, 20, 80], 0, 0.6)] },
  "val/b.png": { boxes: [box([20, 20, 60, 60], 0, 0.8)] },
  "val/c.png": { boxes: [] },
  "val/d.png": { boxes: [box([30, 30, 70, 70], 0, 0.95), box([32, 30, 70, 70], 0, 0.85)] },
  "val/e.png": { boxes: [box([10, 10, 40, 40], 1, 0.1)] },
  "val/f.png": { boxes: [box([5, 5, 45, 45], 0, 0.9)] },
};

/** Model B: right on a, b, e and f; a cat where none is on c; the same duplicate as A on d. */
export const MODEL_B: Record<string, ImagePrediction> = {
  "val/a.png": { boxes: [box([10, 10, 50, 50], 0, 0.9), box([60, 60, 90, 90], 1, 0.9)] },
  "val/b.png": { boxes: [box([20, 20, 60, 60], 1, 0.8)] },
  "val/c.png": { boxes: [box([0, 0, 20, 20], 0, 0.7)] },
  "val/d.png": { boxes: [box([30, 30, 70, 70], 0, 0.95), box([32, 30, 70, 70], 0, 0.85)] },
  "val/e.png": { boxes: [box([10, 10, 40, 40], 1, 0.9)] },
  "val/f.png": { boxes: [box([5, 5, 45, 45], 0, 0.9)] },
};

/** Model A's TP/FP/FN per image at conf 0.25 and at 0.5. */
export const A_COUNTS = {
  0.25: { "val/a.png": [2, 1, 0], "val/b.png": [0, 1, 1], "val/c.png": [0, 0, 0], "val/d.png": [1, 1, 0], "val/e.png": [0, 0, 1], "val/f.png": [1, 0, 0] },
  0.5: { "val/a.png": [1, 1, 1], "val/b.png": [0, 1, 1], "val/c.png": [0, 0, 0], "val/d.png": [1, 1, 0], "val/e.png": [0, 0, 1], "val/f.png": [1, 0, 0] },
} as const;

/** Model A's confusion matrix, [predicted][actual] with background last (Ultralytics: conf > 0.25, IoU > 0.45). */
export const A_CONFUSION = [
  [3, 1, 2],
  [0, 1, 0],
  [0, 1, 0],
];

const PARAMS = { imgsz: 64, batch: 4, conf: 0.001, iou: 0.7, device: "cpu", saveJson: false, plots: false, resplit: null };

/** A ready dataset whose val split holds the given images (no files: the analysis reads only rows). */
export async function insertValDataset(db: Db, projectId: number, name: string, task: "detect" | "classify", truth: Record<string, ImageTruth>): Promise<number> {
  const [row] = await db.insert(datasets).values({ projectId, name, task, status: "ready", classes: CLASSES, progress: 1 }).returning();
  await db.insert(datasetItems).values(Object.keys(truth).map((path) => ({ datasetId: row.id, path, split: "val" as const, bytes: 1, sha256: path, width: 100, height: 100 })));
  return row.id;
}

export async function insertRun(db: Db, projectId: number, name: string, datasetId: number, task: "detect" | "classify"): Promise<number> {
  const [row] = await db.insert(experiments).values({ projectId, name, task, datasetId, model: "m", hyperparameters: {}, status: "completed" }).returning();
  return row.id;
}

/** A completed val validation recorded by the real recording code, from constructed predictions. */
export async function insertValidation(
  db: Db,
  projectId: number,
  target: { experimentId?: number; weightsId?: number },
  datasetId: number,
  task: "detect" | "classify",
  predictions: Record<string, ImagePrediction>,
  truth: Record<string, ImageTruth>,
): Promise<number> {
  const [row] = await db.insert(validations).values({ projectId, ...target, datasetId, split: "val", task, classNames: CLASSES, params: PARAMS, status: "running" }).returning();
  await recordValidation(db, row.id, predictions, truth);
  return row.id;
}

/** Records (or, as a retried validation job does, records again) a validation's outcome from constructed predictions. */
export async function recordValidation(db: Db, validationId: number, predictions: Record<string, ImagePrediction>, truth: Record<string, ImageTruth>): Promise<void> {
  const [row] = await db.select().from(validations).where(eq(validations.id, validationId));
  const items = await db.select().from(datasetItems).where(eq(datasetItems.datasetId, row.datasetId!));
  const images = Object.entries(predictions).map(([path, predicted]) => {
    const item = items.find((i) => i.path === path)!;
    return { item: { id: item.id, file: `/nowhere/${path}`, path, width: 100, height: 100 }, width: 100, height: 100, predicted, truth: truth[path], correct: null };
  });
  await recordOutcome(db, row, { metrics: {}, details: {}, curves: null, speed: { preprocess: 0, inference: 0, postprocess: 0 }, images, skipped: [] }, "test");
}
