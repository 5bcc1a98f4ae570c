// COCO detection datasets: instances JSON files (images, annotations with bbox [x, y, w, h] in pixels, categories).

import { open, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Split } from "./imagefolder";
import {
  checkBox,
  clampBox,
  DatasetError,
  ensureValSplit,
  findChildDir,
  mapPool,
  sortProblems,
  type DetectBox,
  type DetectIndex,
  type DetectItem,
  type DetectReadOptions,
  type LabelProblem,
} from "./detect-index";
import type { SkippedFile } from "./imagefolder";

interface CocoImage { id: number; file_name: string; width: number; height: number }
interface CocoAnnotation { id?: number; image_id: number; category_id: number; bbox: number[]; iscrowd?: number }
interface CocoCategory { id: number; name: string; supercategory?: string }
interface CocoFile { images: CocoImage[]; annotations: CocoAnnotation[]; categories: CocoCategory[] }

const exists = (p: string) => stat(p).then(() => true, () => false);

/** Split named by an annotation file or its folder: instances_val2017.json, valid/_annotations.coco.json … */
export function splitFromName(file: string): Split | null {
  for (const name of [path.basename(file), path.basename(path.dirname(file))].map((n) => n.toLowerCase())) {
    if (name.includes("val")) return "val";
    if (name.includes("test")) return "test";
    if (name.includes("train")) return "train";
  }
  return null;
}

/** COCO annotation files under root: root/*.json, root/annotations/*.json and root/<split>/*.json. */
export async function findCocoFiles(root: string): Promise<string[]> {
  const dirs = [root];
  const annotations = await findChildDir(root, ["annotations"]);
  if (annotations) dirs.push(annotations);
  for (const split of ["train", "valid", "val", "test"]) {
    const dir = await findChildDir(root, [split]);
    if (dir && !dirs.includes(dir)) dirs.push(dir);
  }
  const files: string[] = [];
  for (const dir of dirs) {
    for (const name of (await readdir(dir)).sort()) {
      if (name.toLowerCase().endsWith(".json") && (await looksLikeCoco(path.join(dir, name)))) files.push(path.join(dir, name));
    }
  }
  return files;
}

/** Cheap test on the first and last megabyte, so a multi-gigabyte file is not parsed just to detect the format. */
async function looksLikeCoco(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const window = Math.min(size, 1 << 20);
    const head = Buffer.alloc(window);
    const tail = Buffer.alloc(window);
    await handle.read(head, 0, window, 0);
    await handle.read(tail, 0, window, size - window);
    const text = head.toString("utf8") + tail.toString("utf8");
    return /"images"\s*:/.test(text) && /"annotations"\s*:|"categories"\s*:/.test(text);
  } finally {
    await handle.close();
  }
}

async function loadCocoFile(file: string): Promise<CocoFile> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new DatasetError(`cannot parse ${file}: ${(error as Error).message}`);
  }
  const record = doc as Partial<CocoFile>;
  if (!record || !Array.isArray(record.images) || !Array.isArray(record.categories)) {
    throw new DatasetError(`${file} is not a COCO instances file (needs 'images' and 'categories' arrays)`);
  }
  return { images: record.images, annotations: Array.isArray(record.annotations) ? record.annotations : [], categories: record.categories };
}

/**
 * Category list in id order. A category that only names a supercategory of others and has no annotations
 * (Roboflow exports add one) is not a class.
 */
function buildClasses(files: { file: string; data: CocoFile }[]): { classes: string[]; indexOf: Map<number, number> } {
  const byId = new Map<number, CocoCategory>();
  const used = new Set<number>();
  for (const { file, data } of files) {
    for (const c of data.categories) {
      const known = byId.get(c.id);
      if (known && known.name !== c.name) {
        throw new DatasetError(`category ${c.id} is '${known.name}' in one file and '${c.name}' in ${file}`);
      }
      byId.set(c.id, c);
    }
    for (const a of data.annotations) used.add(a.category_id);
  }
  const supers = new Set([...byId.values()].map((c) => c.supercategory).filter(Boolean));
  const kept = [...byId.values()].filter((c) => used.has(c.id) || !supers.has(c.name)).sort((a, b) => a.id - b.id);
  return { classes: kept.map((c) => c.name), indexOf: new Map(kept.map((c, i) => [c.id, i])) };
}

/** Where the image files of one annotation file live (first folder that holds the first image). */
async function findImageDir(root: string, file: string, split: Split | null, sample: string | undefined): Promise<string> {
  const stem = path.basename(file, ".json").replace(/^instances_/, "");
  const candidates = [path.dirname(file), path.join(root, stem), path.join(root, "images", stem), path.join(root, "images"), root];
  if (split) candidates.push(path.join(root, split), path.join(root, "images", split));
  if (sample) {
    for (const dir of candidates) if (await exists(path.join(dir, sample))) return dir;
  }
  return path.dirname(file);
}

/**
 * Reads a COCO detection dataset. Each annotation file is a split (named train/val/test by its name or folder);
 * bbox [x, y, w, h] pixels become normalised centre boxes; crowd annotations are skipped.
 */
export async function readCoco(root: string, opts: DetectReadOptions = {}): Promise<DetectIndex> {
  const annotationFiles = await findCocoFiles(root);
  if (annotationFiles.length === 0) throw new DatasetError(`no COCO annotation JSON found in ${root}`);
  const files = await Promise.all(annotationFiles.map(async (file) => ({ file, data: await loadCocoFile(file) })));
  const { classes, indexOf } = buildClasses(files);
  if (classes.length === 0) throw new DatasetError(`COCO dataset ${root} declares no categories`);
  const problems: LabelProblem[] = [];
  const skipped: SkippedFile[] = [];
  const items: DetectItem[] = [];

  for (const { file, data } of files) {
    const split = splitFromName(file) ?? "train";
    const imageDir = await findImageDir(root, file, split, data.images[0]?.file_name);
    const boxesOf = new Map<number, DetectBox[]>();
    const imageById = new Map(data.images.map((im) => [im.id, im]));
    data.annotations.forEach((a, i) => {
      const report = (reason: string) => problems.push({ path: file, reason: `annotation ${a.id ?? `#${i}`}: ${reason}` });
      if (a.iscrowd) return;
      const image = imageById.get(a.image_id);
      if (!image) return report(`unknown image_id ${a.image_id}`);
      const cls = indexOf.get(a.category_id);
      if (cls === undefined) return report(`unknown category_id ${a.category_id}`);
      if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || a.bbox.some((v) => typeof v !== "number")) {
        return report(`malformed bbox ${JSON.stringify(a.bbox)}`);
      }
      if (!(image.width > 0 && image.height > 0)) return report(`image ${image.id} has no width/height`);
      const [x, y, w, h] = a.bbox;
      const box: DetectBox = { cls, x: (x + w / 2) / image.width, y: (y + h / 2) / image.height, w: w / image.width, h: h / image.height };
      const bad = checkBox(box, classes.length);
      if (bad) return report(bad);
      const list = boxesOf.get(a.image_id) ?? [];
      list.push(clampBox(box));
      boxesOf.set(a.image_id, list);
    });
    const found = await mapPool(data.images, 16, (im) => exists(path.join(imageDir, im.file_name)));
    data.images.forEach((im, i) => {
      const imagePath = path.join(imageDir, im.file_name);
      if (!found[i]) return skipped.push({ path: imagePath, reason: `image listed in ${path.basename(file)} not found` });
      items.push({ path: imagePath, split, width: im.width, height: im.height, boxes: boxesOf.get(im.id) ?? [] });
    });
  }
  ensureValSplit(items, opts);
  return { root, format: "coco", task: "detect", classes, items, problems: sortProblems(problems), skipped };
}
