// The per-image outcome rows of a validation: written with its predictions, or derived from them on first
// read for validations recorded before these tables existed.

import { and, asc, eq, gt } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { validationConfusion, validationOutcomes, validationPredictions, validations, type ImagePrediction, type ImageTruth } from "@/db/schema";
import { confusionPairs, matchImage } from "@/server/ml/metrics/per-image";

type OutcomeInsert = Omit<typeof validationOutcomes.$inferInsert, "id" | "validationId" | "predictionId">;
type CellInsert = Omit<typeof validationConfusion.$inferInsert, "id" | "validationId" | "predictionId">;

/** What one image adds: its outcome rows and its confusion cells ([predicted][actual], background = numClasses). */
export function judgeImage(task: string, predicted: ImagePrediction, truth: ImageTruth, numClasses: number): { outcomes: OutcomeInsert[]; cells: CellInsert[] } {
  if (task === "classify") {
    const top = predicted.top?.[0];
    const label = truth.label ?? null;
    if (!top || label === null) return { outcomes: [], cells: [] };
    return {
      outcomes: [{ kind: "label", cls: label, predictedCls: top.cls, confidence: top.score, matched: top.cls === label }],
      cells: [{ predicted: top.cls, actual: label, count: 1 }],
    };
  }
  const boxes = predicted.boxes ?? [];
  const labelled = truth.boxes ?? [];
  const { boxes: boxMatches, truths } = matchImage(boxes, labelled);
  const outcomes: OutcomeInsert[] = [
    ...boxes.map((b, i): OutcomeInsert => {
      const m = boxMatches[i];
      return { kind: "box", cls: b.cls, confidence: b.score, matched: m.truth !== null, iou: m.iou, box: b.box, matchedBox: m.truth !== null ? labelled[m.truth].box : null };
    }),
    ...labelled.map((t, g): OutcomeInsert => {
      const m = truths[g];
      return { kind: "truth", cls: t.cls, confidence: m.by !== null ? boxes[m.by].score : null, matched: m.by !== null, iou: m.iou, box: t.box, matchedBox: m.by !== null ? boxes[m.by].box : null };
    }),
  ];
  const counts = new Map<string, CellInsert>();
  for (const [p, a] of confusionPairs(boxes, labelled, numClasses)) {
    const key = `${p}:${a}`;
    const cell = counts.get(key) ?? { predicted: p, actual: a, count: 0 };
    cell.count++;
    counts.set(key, cell);
  }
  return { outcomes, cells: [...counts.values()] };
}

const ROWS_PER_INSERT = 1000;

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) await insert(rows.slice(start, start + ROWS_PER_INSERT));
}

/** Writes the outcome rows and confusion cells of stored images (ids of their validation_predictions rows). */
export async function recordImageOutcomes(
  tx: DbOrTx,
  validation: { id: number; task: string; classNames: string[] },
  images: { id: number; predicted: ImagePrediction; truth: ImageTruth }[],
): Promise<void> {
  const outcomes: (typeof validationOutcomes.$inferInsert)[] = [];
  const cells: (typeof validationConfusion.$inferInsert)[] = [];
  for (const image of images) {
    const judged = judgeImage(validation.task, image.predicted, image.truth, validation.classNames.length);
    for (const o of judged.outcomes) outcomes.push({ ...o, validationId: validation.id, predictionId: image.id });
    for (const c of judged.cells) cells.push({ ...c, validationId: validation.id, predictionId: image.id });
  }
  await insertChunked(outcomes, (chunk) => tx.insert(validationOutcomes).values(chunk));
  await insertChunked(cells, (chunk) => tx.insert(validationConfusion).values(chunk));
}

const BACKFILL_IMAGES = 500;

/** Derives the outcome rows of a completed validation recorded without them (once; concurrent readers wait on the row lock). */
export async function ensureOutcomes(db: DbOrTx, validationId: number): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.select().from(validations).where(eq(validations.id, validationId)).for("update");
    if (!row || row.outcomesRecorded || row.status !== "completed") return;
    let after = 0;
    for (;;) {
      const images = await tx
        .select({ id: validationPredictions.id, predicted: validationPredictions.predicted, truth: validationPredictions.truth })
        .from(validationPredictions)
        .where(and(eq(validationPredictions.validationId, validationId), gt(validationPredictions.id, after)))
        .orderBy(asc(validationPredictions.id))
        .limit(BACKFILL_IMAGES);
      if (images.length === 0) break;
      await recordImageOutcomes(tx, row, images);
      after = images[images.length - 1].id;
    }
    await tx.update(validations).set({ outcomesRecorded: true }).where(eq(validations.id, validationId));
  });
}
