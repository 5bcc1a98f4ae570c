import { rm } from "node:fs/promises";
import { and, asc, count, desc, eq, ilike, inArray, sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { datasetImportFailures, datasetItems, datasets, projects, type DatasetSplitName, type DatasetSplits } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { env } from "@/server/env";
import { Conflict, Invalid, isForeignKeyViolation, isUniqueViolation, NotFound, parseInput } from "@/server/errors";
import { getProject } from "@/server/projects/service";
import { enqueue } from "@/server/jobs/enqueue";
import { readDataset } from "@/server/ml/data/formats";
import { resolveImportPath, splitIsFromFolders } from "./import";
import type { ImportPayload, ImportSource } from "./import-job";
import { importFromPathInput, listDatasetsInput, previewInput, resplitInput, updateDatasetInput } from "./schemas";
import { datasetDir } from "./storage";
import { getDataset } from "./queries";
import { assertDatasetDeletable, stratifiedSplit } from "./training";

/** Queues the import job; tests pass their own to run the handler in-process. */
export type EnqueueImport = (payload: ImportPayload) => Promise<unknown>;

const enqueueWithBoss: EnqueueImport = (payload) => enqueue("datasets.import", payload);

const duplicateName = (name: string) => new Conflict(`A dataset named "${name}" already exists in this project`, { name: ["already taken"] });

export async function listDatasets(ctx: Ctx, rawInput: z.input<typeof listDatasetsInput> = {}, filter: { q?: string; page?: number; size?: number } = {}) {
  const input = parseInput(listDatasetsInput, rawInput);
  const where: SQL[] = [eq(projects.teamId, ctx.caller.teamId)];
  if (input.projectId) where.push(eq(datasets.projectId, input.projectId));
  if (filter.q) where.push(ilike(datasets.name, `%${filter.q.replace(/[%_\\]/g, (c) => `\\${c}`)}%`));
  const size = filter.size ?? 500;
  const offset = ((filter.page ?? 1) - 1) * size;
  const rows = await ctx.db
    .select({ dataset: datasets })
    .from(datasets)
    .innerJoin(projects, eq(projects.id, datasets.projectId))
    .where(and(...where))
    .orderBy(desc(datasets.createdAt), desc(datasets.id))
    .limit(size)
    .offset(offset);
  const [{ total }] = await ctx.db
    .select({ total: count() })
    .from(datasets)
    .innerJoin(projects, eq(projects.id, datasets.projectId))
    .where(and(...where));
  return { items: rows.map((r) => r.dataset), total };
}

export { getDataset } from "./queries";

/** The dataset, or why its import failed (the row is gone then); NotFound when neither exists for the team. */
export async function importState(ctx: Ctx, id: number) {
  const dataset = await getDataset(ctx, id).catch((err) => {
    if (err instanceof NotFound) return null;
    throw err;
  });
  if (dataset) return { dataset, failure: null };
  const [failure] = await ctx.db
    .select({ failure: datasetImportFailures })
    .from(datasetImportFailures)
    .innerJoin(projects, eq(projects.id, datasetImportFailures.projectId))
    .where(and(eq(datasetImportFailures.datasetId, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!failure) throw new NotFound(`Dataset ${id} not found`);
  return { dataset: null, failure: failure.failure };
}

export async function recentImportFailures(ctx: Ctx, projectId?: number) {
  const where: SQL[] = [eq(projects.teamId, ctx.caller.teamId)];
  if (projectId) where.push(eq(datasetImportFailures.projectId, projectId));
  const rows = await ctx.db
    .select({ failure: datasetImportFailures })
    .from(datasetImportFailures)
    .innerJoin(projects, eq(projects.id, datasetImportFailures.projectId))
    .where(and(...where))
    .orderBy(desc(datasetImportFailures.createdAt))
    .limit(10);
  return rows.map((r) => r.failure);
}

export async function dismissImportFailure(ctx: Ctx, id: number) {
  requireRole(ctx, "member");
  await ctx.db.execute(
    sql`delete from dataset_import_failures f using projects p where f.id = ${id} and p.id = f.project_id and p.team_id = ${ctx.caller.teamId}`,
  );
}

/**
 * Creates the dataset row (status importing) and queues the import. The source is checked here too, so a
 * path outside the allowed roots is refused at once instead of failing in the worker.
 */
export async function startDatasetImport(
  ctx: Ctx,
  input: { projectId: number; name: string; description?: string; source: ImportSource; ratios?: ImportPayload["ratios"]; seed?: number },
  enqueue: EnqueueImport = enqueueWithBoss,
) {
  requireRole(ctx, "member");
  await getProject(ctx, input.projectId);
  const source = input.source.kind === "path" ? { kind: "path" as const, path: await resolveImportPath(input.source.path, env().importRoots) } : input.source;
  let row;
  try {
    [row] = await ctx.db
      .insert(datasets)
      .values({ projectId: input.projectId, name: input.name, description: input.description ?? "", status: "importing", stage: "queued", createdBy: ctx.caller.userId })
      .returning();
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateName(input.name);
    throw err;
  }
  await ctx.db.update(datasets).set({ storagePath: datasetDir(row.id) }).where(eq(datasets.id, row.id));
  try {
    await enqueue({ datasetId: row.id, source, ratios: input.ratios, seed: input.seed });
  } catch (err) {
    await ctx.db.delete(datasets).where(eq(datasets.id, row.id));
    throw err;
  }
  return { ...row, storagePath: datasetDir(row.id) };
}

export async function importFromPath(ctx: Ctx, rawInput: z.input<typeof importFromPathInput>, enqueue?: EnqueueImport) {
  const input = parseInput(importFromPathInput, rawInput);
  return startDatasetImport(ctx, { ...input, source: { kind: "path", path: input.path } }, enqueue);
}

export async function updateDataset(ctx: Ctx, rawInput: z.input<typeof updateDatasetInput>) {
  requireRole(ctx, "member");
  const input = parseInput(updateDatasetInput, rawInput);
  const current = await getDataset(ctx, input.id);
  try {
    const [row] = await ctx.db
      .update(datasets)
      .set({ name: input.name ?? current.name, description: input.description ?? current.description, updatedAt: new Date() })
      .where(eq(datasets.id, current.id))
      .returning();
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateName(input.name ?? current.name);
    throw err;
  }
}

/**
 * Deletes the rows and the files. Refused while an experiment uses the dataset. Deleting a dataset that is
 * still importing cancels the import (the job notices the row is gone and removes what it wrote).
 */
export async function deleteDataset(ctx: Ctx, id: number) {
  requireRole(ctx, "member");
  const current = await getDataset(ctx, id);
  try {
    await ctx.db.transaction(async (tx) => {
      await assertDatasetDeletable(tx, id);
      await tx.delete(datasets).where(eq(datasets.id, current.id));
    });
  } catch (err) {
    if (isForeignKeyViolation(err)) {
      throw new Conflict(`Dataset ${current.name} is referenced by experiments; delete those experiments first`, { id: ["referenced by experiments"] });
    }
    throw err;
  }
  // A thumbnail requested just before the delete may still be written meanwhile: rm retries a folder that refills.
  await rm(datasetDir(id), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

function previewFilter(datasetId: number, task: "classify" | "detect", input: Pick<z.infer<typeof previewInput>, "split" | "classId">): SQL {
  const where: SQL[] = [eq(datasetItems.datasetId, datasetId)];
  if (input.split) where.push(eq(datasetItems.split, input.split));
  if (input.classId !== undefined) {
    where.push(task === "classify" ? eq(datasetItems.label, input.classId) : sql`${datasetItems.boxes} @> ${JSON.stringify([{ cls: input.classId }])}::jsonb`);
  }
  return and(...where)!;
}

/** One page of items (ordered by path) with labels; thumbnails and images are served by the image route. */
export async function previewDataset(ctx: Ctx, rawInput: z.input<typeof previewInput>) {
  const input = parseInput(previewInput, rawInput);
  const dataset = await getDataset(ctx, input.id);
  const where = previewFilter(dataset.id, dataset.task, input);
  const items = await ctx.db
    .select({
      id: datasetItems.id,
      path: datasetItems.path,
      split: datasetItems.split,
      width: datasetItems.width,
      height: datasetItems.height,
      label: datasetItems.label,
      boxes: datasetItems.boxes,
    })
    .from(datasetItems)
    .where(where)
    .orderBy(asc(datasetItems.path))
    .limit(input.limit)
    .offset((input.page - 1) * input.limit);
  const [{ total }] = await ctx.db.select({ total: count() }).from(datasetItems).where(where);
  return { items, total, page: input.page, limit: input.limit, classes: dataset.classes, task: dataset.task };
}

/** The stored item, for the image route (which checks the team through the dataset). */
export async function getDatasetItem(ctx: Ctx, datasetId: number, itemId: number) {
  await getDataset(ctx, datasetId);
  const [item] = await ctx.db
    .select()
    .from(datasetItems)
    .where(and(eq(datasetItems.id, itemId), eq(datasetItems.datasetId, datasetId)));
  if (!item) throw new NotFound(`Item ${itemId} of dataset ${datasetId} not found`);
  return item;
}

/**
 * Re-assigns splits: by ratios and seed (stratified per class for classification, so each class keeps its
 * proportions), or back to the dataset's own split folders. Same input, same split.
 */
export async function resplitDataset(ctx: Ctx, rawInput: z.input<typeof resplitInput>) {
  requireRole(ctx, "member");
  const input = parseInput(resplitInput, rawInput);
  const dataset = await getDataset(ctx, input.id);
  if (dataset.status !== "ready") throw new Conflict(`Dataset ${dataset.name} is not ready (status ${dataset.status})`);
  await assertDatasetDeletable(ctx.db, dataset.id).catch((err) => {
    throw new Conflict(err instanceof Error ? err.message.replace("before deleting", "before re-splitting") : String(err), { id: ["in use by an experiment"] });
  });
  const items = await ctx.db
    .select({ id: datasetItems.id, path: datasetItems.path, label: datasetItems.label })
    .from(datasetItems)
    .where(eq(datasetItems.datasetId, dataset.id));
  const assigned = new Map<number, DatasetSplitName>();
  let splits: DatasetSplits;
  if (input.source === "ratios") {
    for (const [item, split] of stratifiedSplit(items, dataset.task, input.ratios, input.seed)) assigned.set(item.id, split);
    splits = { train: 0, val: 0, test: 0, source: "ratios", seed: input.seed, ratios: input.ratios };
  } else {
    const root = datasetDir(dataset.id);
    const index = await readDataset(root, dataset.format, { seed: 0 });
    if (!(await splitIsFromFolders(root, dataset.format, index, { seed: 0 }))) {
      throw new Invalid(`Dataset ${dataset.name} has no split folders of its own; split it by ratios`, { source: ["no split folders"] });
    }
    const byPath = new Map(index.items.map((i) => [i.path.slice(root.length + 1).split("\\").join("/"), i.split]));
    for (const item of items) assigned.set(item.id, byPath.get(item.path) ?? "train");
    splits = { train: 0, val: 0, test: 0, source: "folders", seed: null, ratios: null };
  }
  for (const split of ["train", "val", "test"] as const) {
    const ids = items.filter((i) => assigned.get(i.id) === split).map((i) => i.id);
    splits[split] = ids.length;
  }
  const stats = dataset.stats ? { ...dataset.stats, perSplit: { train: splits.train, val: splits.val, test: splits.test } } : null;
  await ctx.db.transaction(async (tx) => {
    for (const split of ["train", "val", "test"] as const) {
      const ids = items.filter((i) => assigned.get(i.id) === split).map((i) => i.id);
      for (let i = 0; i < ids.length; i += 5000) await tx.update(datasetItems).set({ split }).where(inArray(datasetItems.id, ids.slice(i, i + 5000)));
    }
    await tx.update(datasets).set({ splits, stats, updatedAt: new Date() }).where(eq(datasets.id, dataset.id));
  });
  return getDataset(ctx, dataset.id);
}
