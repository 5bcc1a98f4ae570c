// Pascal VOC detection datasets: Annotations/*.xml, JPEGImages/, optional ImageSets/Main/{train,val,trainval,test}.txt.

import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { IMAGE_EXTENSIONS, DEFAULT_SPLIT_RATIOS, type SkippedFile, type Split } from "./imagefolder";
import { readImageSize } from "./image";
import {
  checkBox,
  clampBox,
  DatasetError,
  ensureValSplit,
  findChildDir,
  mapPool,
  sortProblems,
  splitByRatios,
  type DetectBox,
  type DetectIndex,
  type DetectItem,
  type DetectReadOptions,
  type LabelProblem,
} from "./detect-index";

const exists = (p: string) => stat(p).then(() => true, () => false);

interface VocObject { name: string; difficult: boolean; xmin: number; ymin: number; xmax: number; ymax: number }
interface VocAnnotation { filename?: string; width?: number; height?: number; objects: VocObject[] }

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === "object" });

/** Parses one VOC XML; throws an Error with the reason when the file is not a usable annotation. */
export function parseVocXml(text: string): VocAnnotation {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`malformed XML at line ${valid.err.line}: ${valid.err.msg}`);
  const doc = parser.parse(text) as { annotation?: Record<string, unknown> };
  const ann = doc.annotation;
  if (!ann || typeof ann !== "object") throw new Error("no <annotation> element");
  const size = ann.size as Record<string, string> | undefined;
  const objects = ((ann.object as Record<string, unknown>[] | undefined) ?? []).map((o) => {
    const box = (o.bndbox ?? {}) as Record<string, string>;
    return {
      name: String(o.name ?? "").trim(),
      difficult: String(o.difficult ?? "0").trim() === "1",
      xmin: Number(box.xmin),
      ymin: Number(box.ymin),
      xmax: Number(box.xmax),
      ymax: Number(box.ymax),
    };
  });
  return {
    filename: typeof ann.filename === "string" ? ann.filename.trim() : undefined,
    width: size ? Number(size.width) : undefined,
    height: size ? Number(size.height) : undefined,
    objects,
  };
}

async function readIdList(file: string): Promise<string[] | null> {
  const text = await readFile(file, "utf8").catch(() => null);
  // Lines may carry a second column (per-class lists: "id 1"); the id is the first token.
  return text === null ? null : text.split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
}

/** Split per image id from ImageSets/Main; null when the dataset has no split lists. */
async function readImageSets(root: string): Promise<Map<string, Split> | null> {
  const main = path.join(root, "ImageSets", "Main");
  const lists: [string, Split][] = [["val", "val"], ["test", "test"], ["train", "train"], ["trainval", "train"]];
  const splits = new Map<string, Split>();
  let any = false;
  for (const [name, split] of lists) {
    const ids = await readIdList(path.join(main, `${name}.txt`));
    if (!ids) continue;
    any = true;
    for (const id of ids) if (!splits.has(id)) splits.set(id, split);
  }
  return any ? splits : null;
}

async function findImage(imageDir: string, id: string, filename: string | undefined): Promise<string | null> {
  if (filename && (await exists(path.join(imageDir, filename)))) return path.join(imageDir, filename);
  for (const ext of IMAGE_EXTENSIONS) {
    for (const candidate of [id + ext, id + ext.toUpperCase()]) {
      if (await exists(path.join(imageDir, candidate))) return path.join(imageDir, candidate);
    }
  }
  return null;
}

/** Class names: labels.txt / classes.txt at the root when present (keeps their order), else sorted object names. */
async function readClassList(root: string): Promise<string[] | null> {
  for (const name of ["labels.txt", "classes.txt"]) {
    const ids = await readIdList(path.join(root, name));
    if (ids) return ids;
  }
  return null;
}

/**
 * Reads a Pascal VOC dataset. Boxes are VOC's 1-based pixel corners, normalised like Ultralytics' VOC
 * conversion; difficult objects are kept and flagged. Splits come from ImageSets/Main when present
 * (images in no list are skipped), else a seeded split by `ratios`.
 */
export async function readVoc(root: string, opts: DetectReadOptions = {}): Promise<DetectIndex> {
  const annotationDir = await findChildDir(root, ["Annotations"]);
  if (!annotationDir) throw new DatasetError(`no Annotations folder in ${root}`);
  const imageDir = (await findChildDir(root, ["JPEGImages", "images"])) ?? annotationDir;
  const xmlFiles = (await readdir(annotationDir)).filter((n) => n.toLowerCase().endsWith(".xml")).sort();
  if (xmlFiles.length === 0) throw new DatasetError(`no .xml files in ${annotationDir}`);

  const problems: LabelProblem[] = [];
  const skipped: SkippedFile[] = [];
  const parsed = await mapPool(xmlFiles, 16, async (name) => {
    const file = path.join(annotationDir, name);
    try {
      return { file, id: name.slice(0, -4), ann: parseVocXml(await readFile(file, "utf8")) };
    } catch (error) {
      problems.push({ path: file, reason: (error as Error).message });
      return null;
    }
  });
  const annotations = parsed.filter((p) => p !== null);
  const declared = await readClassList(root);
  const classes = declared ?? [...new Set(annotations.flatMap((a) => a.ann.objects.map((o) => o.name)).filter(Boolean))].sort();
  if (classes.length === 0) throw new DatasetError(`no object classes found in ${annotationDir}`);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const imageSets = await readImageSets(root);

  const items: (DetectItem | null)[] = await mapPool(annotations, 16, async ({ file, id, ann }) => {
    const imagePath = await findImage(imageDir, id, ann.filename);
    if (!imagePath) {
      skipped.push({ path: file, reason: `no image for '${id}' in ${imageDir}` });
      return null;
    }
    const split = imageSets ? imageSets.get(id) : "train";
    if (!split) {
      skipped.push({ path: imagePath, reason: "not listed in ImageSets/Main train/val/trainval/test" });
      return null;
    }
    let { width, height } = ann;
    if (!(width && height && width > 0 && height > 0)) {
      try {
        ({ width, height } = await readImageSize(imagePath));
      } catch (error) {
        skipped.push({ path: imagePath, reason: (error as Error).message });
        return null;
      }
    }
    const boxes: DetectBox[] = [];
    ann.objects.forEach((o, i) => {
      const report = (reason: string) => problems.push({ path: file, reason: `object ${i + 1} ('${o.name}'): ${reason}` });
      const cls = classIndex.get(o.name);
      if (cls === undefined) return report(`class '${o.name}' is not in the class list`);
      if ([o.xmin, o.ymin, o.xmax, o.ymax].some((v) => !Number.isFinite(v))) return report("bndbox is missing or not numeric");
      const box: DetectBox = {
        cls,
        x: ((o.xmin + o.xmax) / 2 - 1) / width!,
        y: ((o.ymin + o.ymax) / 2 - 1) / height!,
        w: (o.xmax - o.xmin) / width!,
        h: (o.ymax - o.ymin) / height!,
      };
      const bad = checkBox(box, classes.length);
      if (bad) return report(bad);
      boxes.push(o.difficult ? { ...clampBox(box), difficult: true } : clampBox(box));
    });
    return { path: imagePath, split, width, height, boxes };
  });
  const kept = items.filter((i) => i !== null);
  if (!imageSets) {
    const bySplit = splitByRatios(kept, opts.ratios ?? DEFAULT_SPLIT_RATIOS, opts.seed ?? 0);
    for (const item of kept) item.split = bySplit.get(item) ?? "train";
  }
  ensureValSplit(kept, opts);
  return { root, format: "voc", task: "detect", classes, items: kept, problems: sortProblems(problems), skipped };
}
