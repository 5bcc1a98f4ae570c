import { asc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { activeExperimentStatuses, datasetItems } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Conflict } from "@/server/errors";
import { splitByRatios, type DetectIndex } from "@/server/ml/data/detect-index";
import type { ClassifyIndex, Split, SplitRatios } from "@/server/ml/data/imagefolder";
import { getDataset } from "./queries";
import { datasetDir } from "./storage";

/**
 * Seeded split by ratios; for classification per class (seed + label), so each class keeps its proportions.
 * Same items, ratios and seed: same split.
 */
export function stratifiedSplit<T extends { path: string; label: number | null }>(items: T[], task: "classify" | "detect", ratios: SplitRatios, seed: number): Map<T, Split> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const key = task === "classify" ? (item.label ?? 0) : 0;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const assigned = new Map<T, Split>();
  for (const [key, group] of groups) {
    for (const [item, split] of splitByRatios(group, ratios, seed + key)) assigned.set(item, split);
  }
  return assigned;
}

export interface TrainingDataset {
  id: number;
  name: string;
  task: "classify" | "detect";
  format: "imagefolder" | "yolo" | "coco" | "voc";
  classes: string[];
  /** Absolute folder the item paths below live in. */
  root: string;
  /** The engine's index (absolute paths), ready for createClassifyLoader / the detection loader. */
  index: ClassifyIndex | DetectIndex;
}

/**
 * What the trainer needs from a ready dataset, read from the stored items (with their stored splits), so
 * training sees exactly what the studio shows; with `resplit`, the run's own split instead (the dataset
 * keeps its). Another team's dataset reads as missing.
 */
export async function getDatasetForTraining(ctx: Ctx, datasetId: number, resplit?: { ratios: SplitRatios; seed: number }): Promise<TrainingDataset> {
  const dataset = await getDataset(ctx, datasetId);
  if (dataset.status !== "ready") throw new Conflict(`Dataset ${dataset.name} is not ready (status ${dataset.status})`, { datasetId: [`status ${dataset.status}`] });
  const rows = await ctx.db
    .select({ path: datasetItems.path, split: datasetItems.split, width: datasetItems.width, height: datasetItems.height, label: datasetItems.label, boxes: datasetItems.boxes })
    .from(datasetItems)
    .where(eq(datasetItems.datasetId, datasetId))
    .orderBy(asc(datasetItems.path));
  if (resplit) {
    for (const [row, split] of stratifiedSplit(rows, dataset.task, resplit.ratios, resplit.seed)) row.split = split;
  }
  const root = datasetDir(datasetId);
  const abs = (p: string) => `${root}/${p}`;
  const base = { id: dataset.id, name: dataset.name, classes: dataset.classes, root, format: dataset.format };
  if (dataset.task === "classify") {
    const index: ClassifyIndex = {
      root,
      format: "imagefolder",
      task: "classify",
      classes: dataset.classes,
      items: rows.map((r) => ({ path: abs(r.path), label: r.label ?? 0, split: r.split })),
      skipped: [],
    };
    return { ...base, task: "classify", index };
  }
  const index: DetectIndex = {
    root,
    format: dataset.format === "imagefolder" ? "yolo" : dataset.format,
    task: "detect",
    classes: dataset.classes,
    items: rows.map((r) => ({ path: abs(r.path), split: r.split, width: r.width, height: r.height, boxes: r.boxes ?? [] })),
    problems: [],
    skipped: [],
  };
  return { ...base, task: "detect", index };
}

/**
 * Refuses (Conflict, naming the reason) while an experiment that is queued or running uses the dataset.
 * The experiments table belongs to another domain and may not exist yet in a fresh database.
 */
export async function assertDatasetDeletable(db: DbOrTx, datasetId: number): Promise<void> {
  const [exists] = (await db.execute(sql`select to_regclass('experiments') is not null as present`)) as unknown as { present: boolean }[];
  if (!exists?.present) return;
  const inUse = (await db.execute(
    sql`select id, status from experiments where dataset_id = ${datasetId} and status in (${sql.join(activeExperimentStatuses.map((status) => sql`${status}`), sql`, `)}) order by id limit 3`,
  )) as unknown as { id: number; status: string }[];
  if (inUse.length > 0) {
    const which = inUse.map((e) => `${e.id} (${e.status})`).join(", ");
    throw new Conflict(`Dataset ${datasetId} is used by experiment(s) ${which}; stop it before deleting the dataset`, { id: ["in use by an experiment"] });
  }
}
