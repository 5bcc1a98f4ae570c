import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { createRng, shuffleInPlace } from "../augment/rng";
import { readImageSize, ImageDecodeError, type DecodeOptions } from "./image";

export type Split = "train" | "val" | "test";
export interface ClassifyItem { path: string; label: number; split: Split }
export interface SkippedFile { path: string; reason: string }
export interface ClassifyIndex {
  root: string;
  format: "imagefolder";
  task: "classify";
  classes: string[];
  items: ClassifyItem[];
  skipped: SkippedFile[];
}
export interface SplitRatios { train: number; val: number; test: number }

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"];
export const DEFAULT_SPLIT_RATIOS: SplitRatios = { train: 0.8, val: 0.2, test: 0 };

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetError";
  }
}

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Dot files and macOS archive debris are never data. */
function isHidden(name: string): boolean {
  return name.startsWith(".") || name === "__MACOSX" || name === "Thumbs.db" || name === "desktop.ini";
}

async function listDir(dir: string) {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => !isHidden(e.name)).sort((a, b) => compareNames(a.name, b.name));
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every image under `dir` (recursively, sorted); anything else goes to `skipped`. */
async function collectImages(dir: string, skipped: SkippedFile[]): Promise<string[]> {
  const images: string[] = [];
  for (const entry of await listDir(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) images.push(...(await collectImages(full, skipped)));
    else if (isImageFile(entry.name)) images.push(full);
    else skipped.push({ path: full, reason: `not an image (extension '${path.extname(entry.name) || "none"}')` });
  }
  return images;
}

/** Class name -> sorted image paths, for a folder whose sub-folders are classes. */
async function readClassFolders(dir: string, skipped: SkippedFile[]): Promise<Map<string, string[]>> {
  const classes = new Map<string, string[]>();
  for (const entry of await listDir(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) classes.set(entry.name, await collectImages(full, skipped));
    else skipped.push({ path: full, reason: "file outside a class folder" });
  }
  return classes;
}

function quoteList(names: string[]): string {
  return names.map((n) => `'${n}'`).join(", ");
}

function checkClasses(classes: Map<string, string[]>, where: string): void {
  const empty = [...classes].filter(([, files]) => files.length === 0).map(([name]) => name);
  if (classes.size === 0 || empty.length === classes.size) throw new DatasetError(`no images found in ${where}`);
  if (empty.length > 0) throw new DatasetError(`class folder(s) with no images in ${where}: ${quoteList(empty)}`);
  if (classes.size < 2) {
    throw new DatasetError(`dataset needs at least 2 classes, found ${classes.size}: ${quoteList([...classes.keys()])}`);
  }
}

function validateRatios(ratios: SplitRatios): SplitRatios {
  const values = [ratios.train, ratios.val, ratios.test];
  if (values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new DatasetError(`split ratios must be non-negative numbers, got train=${ratios.train} val=${ratios.val} test=${ratios.test}`);
  }
  const sum = values[0] + values[1] + values[2];
  if (ratios.train <= 0 || sum <= 0) throw new DatasetError(`split ratios need a positive train share, got train=${ratios.train}`);
  return { train: ratios.train / sum, val: ratios.val / sum, test: ratios.test / sum };
}

/**
 * Stratified, seeded split of one class's files. Sorting first makes the result depend only on the file
 * names and the seed; each class gets its own stream so adding a class does not reshuffle the others.
 * Every class keeps at least one training image, and one val image when it has two or more and val > 0.
 */
function splitClassFiles(files: string[], className: string, ratios: SplitRatios, seed: number): Map<Split, string[]> {
  const order = shuffleInPlace([...files].sort(), createRng(seed).fork(`split:${className}`));
  const n = order.length;
  let nVal = Math.round(n * ratios.val);
  let nTest = Math.round(n * ratios.test);
  if (ratios.val > 0 && nVal === 0 && n >= 2) nVal = 1;
  while (nVal + nTest > n - 1 && nVal + nTest > 0) {
    if (nTest >= nVal && nTest > 0) nTest--;
    else nVal--;
  }
  return new Map<Split, string[]>([
    ["val", order.slice(0, nVal).sort()],
    ["test", order.slice(nVal, nVal + nTest).sort()],
    ["train", order.slice(nVal + nTest).sort()],
  ]);
}

const VAL_FOLDER_NAMES = ["val", "valid", "validation"];

async function findSubfolder(root: string, names: string[]): Promise<string | null> {
  const dirs = (await listDir(root)).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const name of names) {
    const match = dirs.find((d) => d.toLowerCase() === name);
    if (match) return path.join(root, match);
  }
  return null;
}

function describeDifference(a: Set<string>, aName: string, b: Set<string>, bName: string): string | null {
  const onlyA = [...a].filter((c) => !b.has(c)).sort();
  const onlyB = [...b].filter((c) => !a.has(c)).sort();
  if (onlyA.length === 0 && onlyB.length === 0) return null;
  const parts = [];
  if (onlyA.length) parts.push(`only in ${aName}: ${quoteList(onlyA)}`);
  if (onlyB.length) parts.push(`only in ${bName}: ${quoteList(onlyB)}`);
  return `class folders differ between ${aName} and ${bName} (${parts.join("; ")})`;
}

/**
 * Reads an ImageFolder dataset.
 * - `root/{train,val|valid,test?}/<class>/*`: the dataset's own splits are kept. Without a val folder,
 *   val is carved out of train with `ratios.val` (seeded, stratified).
 * - `root/<class>/*`: split by `ratios` (default 0.8/0.2/0), stratified per class, reproducible by `seed`.
 * Class ids follow the sorted class names.
 */
export async function readImageFolder(
  root: string,
  opts: { ratios?: SplitRatios; seed?: number } = {},
): Promise<ClassifyIndex> {
  const seed = opts.seed ?? 0;
  const ratios = validateRatios(opts.ratios ?? DEFAULT_SPLIT_RATIOS);
  const rootStat = await stat(root).catch(() => null);
  if (!rootStat) throw new DatasetError(`dataset folder not found: ${root}`);
  if (!rootStat.isDirectory()) throw new DatasetError(`dataset path is not a folder: ${root}`);

  const skipped: SkippedFile[] = [];
  const files = new Map<Split, Map<string, string[]>>(); // split -> class -> files
  const trainDir = await findSubfolder(root, ["train"]);

  if (trainDir) {
    const train = await readClassFolders(trainDir, skipped);
    checkClasses(train, trainDir);
    const valDir = await findSubfolder(root, VAL_FOLDER_NAMES);
    const testDir = await findSubfolder(root, ["test"]);
    for (const entry of await listDir(root)) {
      const full = path.join(root, entry.name);
      if (full !== trainDir && full !== valDir && full !== testDir) {
        skipped.push({ path: full, reason: "not a train/val/test folder" });
      }
    }
    const trainNames = new Set(train.keys());
    if (valDir) {
      const val = await readClassFolders(valDir, skipped);
      const difference = describeDifference(trainNames, "train", new Set(val.keys()), path.basename(valDir));
      if (difference) throw new DatasetError(`${difference} in ${root}`);
      files.set("train", train);
      files.set("val", val);
    } else {
      const carved = { train: 1 - ratios.val, val: ratios.val, test: 0 };
      const trainPart = new Map<string, string[]>();
      const valPart = new Map<string, string[]>();
      for (const [name, list] of train) {
        const parts = splitClassFiles(list, name, carved, seed);
        trainPart.set(name, parts.get("train")!);
        valPart.set(name, parts.get("val")!);
      }
      files.set("train", trainPart);
      files.set("val", valPart);
    }
    if (testDir) {
      const test = await readClassFolders(testDir, skipped);
      const unknown = [...test.keys()].filter((c) => !trainNames.has(c)).sort();
      if (unknown.length) throw new DatasetError(`class folders in test but not in train: ${quoteList(unknown)} in ${root}`);
      files.set("test", test);
    }
  } else {
    const classes = await readClassFolders(root, skipped);
    checkClasses(classes, root);
    for (const split of ["train", "val", "test"] as const) files.set(split, new Map());
    for (const [name, list] of classes) {
      for (const [split, part] of splitClassFiles(list, name, ratios, seed)) files.get(split)!.set(name, part);
    }
  }

  const classes = [...files.get("train")!.keys()].sort(compareNames);
  const items: ClassifyItem[] = [];
  for (const split of ["train", "val", "test"] as const) {
    for (const [name, list] of files.get(split) ?? []) {
      const label = classes.indexOf(name);
      for (const file of list) items.push({ path: file, label, split });
    }
  }
  return { root, format: "imagefolder", task: "classify", classes, items, skipped };
}

/**
 * Reads each file's header (no pixel decoding) and separates unreadable files, so a corrupt upload is
 * reported before training instead of crashing it. Truncated pixel data is only found by the loader.
 */
export async function checkImages<T extends { path: string }>(
  items: T[],
  opts: DecodeOptions & { concurrency?: number } = {},
): Promise<{ ok: T[]; skipped: SkippedFile[] }> {
  const readable = new Array<boolean>(items.length);
  const reasons = new Array<string>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await readImageSize(items[i].path, opts);
        readable[i] = true;
      } catch (error) {
        readable[i] = false;
        reasons[i] = error instanceof ImageDecodeError ? error.reason : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, items.length) }, worker));
  const ok: T[] = [];
  const skipped: SkippedFile[] = [];
  items.forEach((item, i) => (readable[i] ? ok.push(item) : skipped.push({ path: item.path, reason: reasons[i] })));
  return { ok, skipped };
}
