// YOLO (Ultralytics) detection datasets: images/ + labels/ with one "cls cx cy w h" line per object.

import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import yaml from "js-yaml";
import type { Split } from "./imagefolder";
import {
  checkBox,
  clampBox,
  DatasetError,
  ensureValSplit,
  findChildDir,
  listImages,
  mapPool,
  sortProblems,
  splitByRatios,
  type DetectBox,
  type DetectIndex,
  type DetectItem,
  type DetectReadOptions,
  type LabelProblem,
} from "./detect-index";
import { DEFAULT_SPLIT_RATIOS, isImageFile, type SkippedFile } from "./imagefolder";

const SPLIT_KEYS: Split[] = ["train", "val", "test"];
const SPLIT_FOLDERS: Record<Split, string[]> = { train: ["train"], val: ["val", "valid", "validation"], test: ["test"] };

const exists = (p: string) => stat(p).then(() => true, () => false);
const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

/** Class names from a data.yaml `names` (list, or dict keyed 0..n-1) or its `nc`. */
export function parseYoloNames(doc: Record<string, unknown>, where: string): string[] {
  const names = doc.names;
  if (Array.isArray(names)) return names.map(String);
  if (names && typeof names === "object") {
    const entries = Object.entries(names as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)] as const);
    entries.sort((a, b) => a[0] - b[0]);
    entries.forEach(([k], i) => {
      if (k !== i) throw new DatasetError(`'names' in ${where} must be keyed 0..${entries.length - 1}, found key ${k}`);
    });
    return entries.map(([, v]) => v);
  }
  if (typeof doc.nc === "number" && Number.isInteger(doc.nc) && doc.nc > 0) {
    return Array.from({ length: doc.nc }, (_, i) => `class_${i}`);
  }
  throw new DatasetError(`${where} has neither 'names' nor 'nc'`);
}

/** Ultralytics' img2label_paths: the last /images/ folder becomes /labels/, the extension .txt. */
export function labelPathFor(imagePath: string): string {
  const sep = `${path.sep}images${path.sep}`;
  const cut = imagePath.lastIndexOf(sep);
  const swapped = cut < 0 ? imagePath : imagePath.slice(0, cut) + `${path.sep}labels${path.sep}` + imagePath.slice(cut + sep.length);
  return swapped.slice(0, swapped.length - path.extname(swapped).length) + ".txt";
}

/** Parse one label file; unusable lines go to `problems`. Polygon lines (segments) become their bounding box. */
export function parseYoloLabels(text: string, numClasses: number, file: string, problems: LabelProblem[]): DetectBox[] {
  const boxes: DetectBox[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const report = (reason: string) => problems.push({ path: file, line: i + 1, reason });
    const tokens = line.split(/\s+/);
    const values = tokens.map(Number);
    if (values.some((v) => !Number.isFinite(v))) return report(`malformed line '${line}': not all numbers`);
    let box: DetectBox;
    if (tokens.length === 5) {
      box = { cls: values[0], x: values[1], y: values[2], w: values[3], h: values[4] };
    } else if (tokens.length >= 7 && tokens.length % 2 === 1) {
      const xs = values.filter((_, k) => k > 0 && k % 2 === 1);
      const ys = values.filter((_, k) => k > 0 && k % 2 === 0);
      const [x1, x2, y1, y2] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      box = { cls: values[0], x: (x1 + x2) / 2, y: (y1 + y2) / 2, w: x2 - x1, h: y2 - y1 };
    } else {
      return report(`malformed line '${line}': expected 'class cx cy w h' (5 values), got ${tokens.length}`);
    }
    const bad = checkBox(box, numClasses);
    if (bad) return report(bad);
    const key = tokens.join(" ");
    if (seen.has(key)) return report("duplicate label removed");
    seen.add(key);
    boxes.push(clampBox(box));
  });
  return boxes;
}

interface YamlConfig {
  file: string;
  classes: string[];
  splits: Partial<Record<Split, string[]>>;
  base: string;
}

export const isYamlPath = (p: string) => /\.ya?ml$/i.test(p);

async function findDataYaml(root: string): Promise<string | null> {
  for (const name of ["data.yaml", "data.yml", "dataset.yaml", "dataset.yml"]) {
    if (await exists(path.join(root, name))) return path.join(root, name);
  }
  return null;
}

async function readYamlConfig(file: string): Promise<YamlConfig> {
  let doc: unknown;
  try {
    doc = yaml.load(await readFile(file, "utf8"));
  } catch (error) {
    throw new DatasetError(`cannot parse ${file}: ${(error as Error).message}`);
  }
  if (!doc || typeof doc !== "object") throw new DatasetError(`${file} is not a YAML mapping`);
  const record = doc as Record<string, unknown>;
  const dir = path.dirname(file);
  const base = typeof record.path === "string" && record.path ? path.resolve(dir, record.path) : dir;
  const splits: Partial<Record<Split, string[]>> = {};
  for (const key of SPLIT_KEYS) {
    const value = record[key];
    if (typeof value === "string" && value) splits[key] = [value];
    else if (Array.isArray(value)) splits[key] = value.map(String);
  }
  return { file, classes: parseYoloNames(record, file), splits, base };
}

/** A data.yaml split entry: folder of images or a .txt list of image paths; "../x" falls back to "x" like Ultralytics. */
async function resolveSplitEntry(base: string, entry: string): Promise<string | null> {
  const direct = path.resolve(base, entry);
  if (await exists(direct)) return direct;
  if (entry.startsWith("../")) {
    const stripped = path.resolve(base, entry.slice(3));
    if (await exists(stripped)) return stripped;
  }
  return null;
}

async function imagesOfEntry(location: string): Promise<string[]> {
  if (await isDir(location)) return listImages(location, true);
  const dir = path.dirname(location);
  const lines = (await readFile(location, "utf8")).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.map((l) => path.resolve(dir, l)).filter((p) => isImageFile(p));
}

async function readClassesTxt(root: string): Promise<string[] | null> {
  for (const candidate of [path.join(root, "classes.txt"), path.join(root, "labels", "classes.txt")]) {
    if (await exists(candidate)) {
      return (await readFile(candidate, "utf8")).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    }
  }
  return null;
}

/** Images per split when there is no data.yaml: images/{train,val,test}, {train,valid,test}/images, or all images. */
async function discoverSplits(root: string): Promise<{ splits: Partial<Record<Split, string[]>>; unsplit: string[] }> {
  const imagesDir = await findChildDir(root, ["images"]);
  const splits: Partial<Record<Split, string[]>> = {};
  for (const split of SPLIT_KEYS) {
    const dir = imagesDir
      ? await findChildDir(imagesDir, SPLIT_FOLDERS[split])
      : await findChildDir(root, SPLIT_FOLDERS[split]).then((d) => (d ? findChildDir(d, ["images"]) : null));
    if (dir) splits[split] = await listImages(dir, true);
  }
  if (splits.train) return { splits, unsplit: [] };
  return { splits: {}, unsplit: await listImages(imagesDir ?? root, true) };
}

/**
 * Reads a YOLO dataset. Classes from data.yaml (`names` list or dict, or `nc`) or classes.txt; splits from
 * the yaml's train/val/test entries, else from images/{train,val,test} folders, else a seeded split by
 * `ratios`. A missing label file means a background image. Bad label lines are reported in `problems`.
 * `rootOrYaml` is the dataset folder or its data.yaml file (as Ultralytics' `data=`).
 */
export async function readYolo(rootOrYaml: string, opts: DetectReadOptions = {}): Promise<DetectIndex> {
  const yamlGiven = isYamlPath(rootOrYaml);
  if (yamlGiven && !(await exists(rootOrYaml))) throw new DatasetError(`dataset file not found: ${rootOrYaml}`);
  const root = yamlGiven ? path.dirname(rootOrYaml) : rootOrYaml;
  if (!(await isDir(root))) throw new DatasetError(`dataset folder not found: ${root}`);
  const problems: LabelProblem[] = [];
  const skipped: SkippedFile[] = [];
  const yamlFile = yamlGiven ? rootOrYaml : await findDataYaml(root);
  let classes: string[];
  let splits: Partial<Record<Split, string[]>> = {};
  let unsplit: string[] = [];
  if (yamlFile) {
    const config = await readYamlConfig(yamlFile);
    classes = config.classes;
    for (const [split, entries] of Object.entries(config.splits) as [Split, string[]][]) {
      const images: string[] = [];
      for (const entry of entries) {
        const location = await resolveSplitEntry(config.base, entry);
        if (location) images.push(...(await imagesOfEntry(location)));
        else problems.push({ path: yamlFile, reason: `${split} path '${entry}' not found (relative to ${config.base})` });
      }
      splits[split] = images;
    }
    if (!splits.train?.length) {
      const found = await discoverSplits(root);
      splits = found.splits;
      unsplit = found.unsplit;
    }
  } else {
    const names = await readClassesTxt(root);
    if (!names) throw new DatasetError(`no class names in ${root}: expected data.yaml (with 'names') or classes.txt`);
    classes = names;
    ({ splits, unsplit } = await discoverSplits(root));
  }
  if (classes.length === 0) throw new DatasetError(`dataset ${root} declares no classes`);

  const pending: { path: string; split: Split }[] = [];
  for (const split of SPLIT_KEYS) for (const p of splits[split] ?? []) pending.push({ path: p, split });
  if (unsplit.length) {
    const bySplit = splitByRatios(unsplit.map((p) => ({ path: p })), opts.ratios ?? DEFAULT_SPLIT_RATIOS, opts.seed ?? 0);
    for (const [item, split] of bySplit) pending.push({ path: item.path, split });
    pending.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  if (pending.length === 0) throw new DatasetError(`no images found in ${root}`);

  const items: DetectItem[] = await mapPool(pending, 16, async ({ path: imagePath, split }) => {
    const candidates = [labelPathFor(imagePath), imagePath.slice(0, imagePath.length - path.extname(imagePath).length) + ".txt"];
    for (const labelFile of candidates) {
      const text = await readFile(labelFile, "utf8").catch(() => null);
      if (text !== null) return { path: imagePath, split, boxes: parseYoloLabels(text, classes.length, labelFile, problems) };
    }
    return { path: imagePath, split, boxes: [] };
  });
  ensureValSplit(items, opts);
  return { root, format: "yolo", task: "detect", classes, items, problems: sortProblems(problems), skipped };
}
