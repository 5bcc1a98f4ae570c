// The `datasets.import` job: copy the files into the studio's storage, recognise the format, read it with
// the engine's reader, measure every image and store items + statistics. Any failure (or the dataset row
// disappearing, which is how an import is cancelled) removes the row and every file.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, lstat, mkdir, readdir, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { datasetImportFailures, datasetItems, datasets, projects, type DatasetSplits, type StoredBox } from "@/db/schema";
import { publish } from "@/server/events/bus";
import { detectFormat } from "@/server/ml/data/detect-format";
import { mapPool, type DetectIndex, type DetectReadOptions } from "@/server/ml/data/detect-index";
import { readDataset, type DatasetFormat } from "@/server/ml/data/formats";
import { DatasetError, DEFAULT_SPLIT_RATIOS, type ClassifyIndex } from "@/server/ml/data/imagefolder";
import { readImageSize, ImageDecodeError, DEFAULT_MAX_PIXELS } from "@/server/ml/data/image";
import { env } from "@/server/env";
import { Invalid } from "@/server/errors";
import { analyse, type AnalysedItem } from "./analysis";
import type { ImportPayload, ImportSource } from "./import-job";
import { datasetDir, tmpDir } from "./storage";
import { extractDatasetZip, isDatasetFile, type ZipLimits } from "./zip";

export type { ImportPayload, ImportSource } from "./import-job";

export interface ImportOptions {
  zipLimits?: Partial<ZipLimits>;
  maxPixels?: number;
}

/** The dataset row was deleted while importing: the user cancelled. */
class ImportCancelled extends Error {
  constructor(datasetId: number) {
    super(`import of dataset ${datasetId} was cancelled`);
    this.name = "ImportCancelled";
  }
}

const isWithin = (candidate: string, folder: string) => candidate === folder || candidate.startsWith(folder + path.sep);

/** The real path of a server folder (or file) that may be imported, after resolving every symlink; Invalid saying why not. */
export async function resolveImportPath(requested: string, roots: string[], kind: "folder" | "file" = "folder"): Promise<string> {
  if (roots.length === 0) {
    throw new Invalid(
      `Importing from a server folder is disabled on this studio: an administrator sets STUDIO_IMPORT_ROOTS to the server folders that may be read (separated by "${path.delimiter}"), then restarts the studio`,
      { path: ["no allowed roots: set STUDIO_IMPORT_ROOTS"] },
    );
  }
  if (!path.isAbsolute(requested)) throw new Invalid(`Server path must be absolute, got ${requested}`, { path: ["must be absolute"] });
  const real = await realpath(requested).catch(() => null);
  if (!real) throw new Invalid(`Server path ${requested} does not exist`, { path: ["not found"] });
  const stats = await lstat(real);
  if (kind === "folder" ? !stats.isDirectory() : !stats.isFile()) throw new Invalid(`Server path ${requested} is not a ${kind}`, { path: [`not a ${kind}`] });
  // The studio's own folder holds every team's files and its secrets: no root may reach into it.
  const dataDir = await realpath(env().dataDir).catch(() => env().dataDir);
  if (isWithin(real, dataDir) || (kind === "folder" && isWithin(dataDir, real))) {
    throw new Invalid(`Server path ${requested} is ${isWithin(real, dataDir) ? "inside" : "around"} the studio's own data folder (STUDIO_DATA_DIR), which is never imported from`, { path: ["the studio's data folder"] });
  }
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => null);
    if (realRoot && isWithin(real, realRoot)) return real;
  }
  throw new Invalid(`Server path ${requested} (resolved to ${real}) is outside the allowed import roots`, { path: ["outside the allowed roots"] });
}

/**
 * Copies images and label files from a server folder. Symbolic links inside it are not followed (they could
 * point anywhere) and are listed as skipped, like every other file that is not data.
 */
async function copyFolder(source: string, dest: string, onFile: (done: number) => Promise<void>): Promise<string[]> {
  const skipped: string[] = [];
  let done = 0;
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.name.startsWith(".") || entry.name === "__MACOSX") continue;
      if (entry.isSymbolicLink()) skipped.push(`${relPath} (symbolic link)`);
      else if (entry.isDirectory()) await walk(path.join(dir, entry.name), relPath);
      else if (!entry.isFile() || !isDatasetFile(entry.name)) skipped.push(relPath);
      else {
        await mkdir(path.join(dest, rel), { recursive: true });
        await copyFile(path.join(dir, entry.name), path.join(dest, relPath));
        await onFile(++done);
      }
    }
  };
  await walk(source, "");
  return skipped;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const toPosix = (root: string, file: string) => path.relative(root, file).split(path.sep).join("/");

/** Publishes progress and checks the row still exists (deleting it cancels the import). */
function progressReporter(db: Db, datasetId: number, teamId: number) {
  let lastAt = 0;
  return async (stage: string, progress: number, force = false) => {
    const now = Date.now();
    if (!force && now - lastAt < 300) return;
    lastAt = now;
    const value = Math.min(1, Math.max(0, progress));
    const [row] = await db
      .update(datasets)
      .set({ stage, progress: value })
      .where(and(eq(datasets.id, datasetId), eq(datasets.status, "importing")))
      .returning({ id: datasets.id });
    if (!row) throw new ImportCancelled(datasetId);
    await publish(db, { type: "dataset.progress", teamId, topic: `dataset:${datasetId}`, teamWide: true, datasetId, status: "importing", stage, progress: value });
  };
}

/** Runs one import to the end; on failure leaves nothing behind but a `dataset_import_failures` row. */
export async function runDatasetImport(db: Db, payload: ImportPayload, options: ImportOptions = {}): Promise<{ status: "ready" | "failed" | "cancelled"; error?: string }> {
  const { datasetId, source } = payload;
  const root = datasetDir(datasetId);
  const [found] = await db
    .select({ dataset: datasets, teamId: projects.teamId })
    .from(datasets)
    .innerJoin(projects, eq(projects.id, datasets.projectId))
    .where(eq(datasets.id, datasetId));
  if (!found || found.dataset.status !== "importing") {
    await removeStaged(source);
    return { status: "cancelled" };
  }
  const { dataset, teamId } = found;
  const report = progressReporter(db, datasetId, teamId);
  try {
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    let skipped: string[];
    if (source.kind === "zip") {
      await report("extracting", 0, true);
      const staged = checkStaged(source.file);
      const result = await extractDatasetZip(staged, root, { limits: options.zipLimits, onProgress: (done, total) => report("extracting", (0.4 * done) / total) });
      skipped = result.skipped;
    } else {
      await report("copying", 0, true);
      const real = await resolveImportPath(source.path, env().importRoots);
      skipped = await copyFolder(real, root, (done) => report(`copying (${done} files)`, Math.min(0.4, done / 50_000)));
    }

    await report("detecting format", 0.4, true);
    const detected = await detectFormat(root);
    const readOptions = { ratios: payload.ratios, seed: payload.seed };
    const index = await readDataset(root, detected.format, readOptions);
    const splits = await describeSplits(root, detected.format, index, readOptions);

    await report("measuring images", 0.45, true);
    const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    const corrupt: { path: string; reason: string }[] = [];
    let measured = 0;
    const analysed = await mapPool(index.items as (ClassifyIndex["items"][number] | DetectIndex["items"][number])[], 4, async (item): Promise<AnalysedItem | null> => {
      const rel = toPosix(root, item.path);
      try {
        const [size, sha256, stats] = await Promise.all([readImageSize(item.path, { maxPixels }), sha256File(item.path), lstat(item.path)]);
        return {
          path: rel,
          split: item.split,
          bytes: stats.size,
          sha256,
          width: size.width,
          height: size.height,
          label: "label" in item ? item.label : null,
          boxes: "boxes" in item ? item.boxes.map(({ cls, x, y, w, h, difficult }): StoredBox => (difficult ? { cls, x, y, w, h, difficult } : { cls, x, y, w, h })) : null,
        };
      } catch (err) {
        corrupt.push({ path: rel, reason: err instanceof ImageDecodeError ? err.reason : (err as Error).message });
        return null;
      } finally {
        await report("measuring images", 0.45 + (0.45 * ++measured) / index.items.length);
      }
    });
    const items = analysed.filter((i) => i !== null);
    if (items.length === 0) throw new Invalid(`no readable images in the dataset (${corrupt.length} unreadable)`);
    const problems = "problems" in index ? index.problems.map((p) => ({ path: toPosix(root, p.path), line: p.line, reason: p.reason })) : [];
    const readerSkipped = index.skipped.map((s) => `${toPosix(root, s.path)} (${s.reason})`);
    const stats = analyse(index.task, index.classes, items, {
      corrupt: corrupt.sort((a, b) => (a.path < b.path ? -1 : 1)),
      outOfRangeBoxes: problems,
      skipped: [...skipped, ...readerSkipped],
      evidence: detected.evidence,
    });
    splits.train = stats.perSplit.train;
    splits.val = stats.perSplit.val;
    splits.test = stats.perSplit.test;

    await report("saving", 0.95, true);
    await db.transaction(async (tx) => {
      for (let i = 0; i < items.length; i += 1000) {
        await tx.insert(datasetItems).values(items.slice(i, i + 1000).map((item) => ({ ...item, datasetId })));
      }
      const [row] = await tx
        .update(datasets)
        .set({ status: "ready", progress: 1, stage: "ready", task: index.task, format: detected.format, classes: index.classes, stats, splits, storagePath: root, updatedAt: new Date() })
        .where(and(eq(datasets.id, datasetId), eq(datasets.status, "importing")))
        .returning({ id: datasets.id });
      if (!row) throw new ImportCancelled(datasetId);
      await publish(tx, { type: "dataset.progress", teamId, topic: `dataset:${datasetId}`, teamWide: true, datasetId, status: "ready", stage: "ready", progress: 1 });
    });
    return { status: "ready" };
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    if (err instanceof ImportCancelled) return { status: "cancelled" };
    const error = describeFailure(err);
    await db.transaction(async (tx) => {
      await tx.delete(datasets).where(eq(datasets.id, datasetId));
      await tx.insert(datasetImportFailures).values({ projectId: dataset.projectId, datasetId, name: dataset.name, error });
      await publish(tx, { type: "dataset.progress", teamId, topic: `dataset:${datasetId}`, teamWide: true, datasetId, status: "failed", stage: "failed", progress: 0, error: error.slice(0, 2000) });
    });
    return { status: "failed", error };
  } finally {
    await removeStaged(source);
  }
}

function describeFailure(err: unknown): string {
  // The dataset's own faults are the user's to read as they are; anything else is ours.
  if (err instanceof DatasetError || err instanceof ImageDecodeError || err instanceof Invalid) return err.message;
  console.error("[datasets.import]", err);
  return `import failed: ${err instanceof Error ? err.message : String(err)}`;
}

/** Staged uploads are only ever read from the studio's own tmp folder. */
function checkStaged(file: string): string {
  const resolved = path.resolve(file);
  if (!resolved.startsWith(tmpDir() + path.sep)) throw new Invalid(`staged upload ${file} is not in the studio's tmp folder`);
  return resolved;
}

async function removeStaged(source: ImportSource): Promise<void> {
  if (source.kind === "zip" && path.resolve(source.file).startsWith(tmpDir() + path.sep)) await rm(source.file, { force: true });
}

/**
 * Whether the reader kept the dataset's own split folders or drew one at random: a split that comes from
 * folders does not change with the seed.
 */
async function describeSplits(root: string, format: DatasetFormat, index: ClassifyIndex | DetectIndex, opts: DetectReadOptions): Promise<DatasetSplits> {
  const seed = opts.seed ?? 0;
  const fromFolders = index.items.length > 1 && (await splitIsFromFolders(root, format, index, opts));
  return fromFolders
    ? { train: 0, val: 0, test: 0, source: "folders", seed: null, ratios: null }
    : { train: 0, val: 0, test: 0, source: "ratios", seed, ratios: opts.ratios ?? DEFAULT_SPLIT_RATIOS };
}

/** The reader kept the dataset's own split folders when reading with another seed splits every image the same. */
export async function splitIsFromFolders(root: string, format: DatasetFormat, index: ClassifyIndex | DetectIndex, opts: DetectReadOptions = {}): Promise<boolean> {
  const other = await readDataset(root, format, { ...opts, seed: (opts.seed ?? 0) + 1 });
  const splitOf = new Map<string, string>(other.items.map((i) => [i.path, i.split]));
  return index.items.every((i) => splitOf.get(i.path) === i.split);
}
