// Which dataset format a folder holds, and why (the evidence is shown to the user on import).

import { readdir } from "node:fs/promises";
import path from "node:path";
import { findCocoFiles, readCoco } from "./coco";
import { DatasetError, findChildDir, type DetectIndex, type DetectReadOptions } from "./detect-index";
import { isImageFile } from "./imagefolder";
import { readVoc } from "./voc";
import { isYamlPath, readYolo } from "./yolo";

export type DatasetFormat = "imagefolder" | "yolo" | "coco" | "voc";

export interface DetectedFormat {
  format: DatasetFormat;
  task: "classify" | "detect";
  /** Files or folders (relative to root) that decided the format. */
  evidence: string[];
}

async function names(dir: string) {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function countFiles(dir: string, test: (name: string) => boolean, limit = 1000): Promise<number> {
  let count = 0;
  for (const e of await names(dir)) {
    if (count >= limit) break;
    if (e.isFile() && test(e.name)) count++;
    else if (e.isDirectory() && !e.name.startsWith(".")) count += await countFiles(path.join(dir, e.name), test, limit - count);
  }
  return count;
}

const isTxt = (n: string) => n.toLowerCase().endsWith(".txt") && n.toLowerCase() !== "classes.txt";

async function detectYolo(root: string): Promise<string[]> {
  const entries = await names(root);
  const yamlFile = entries.find((e) => e.isFile() && /^(data|dataset)\.ya?ml$/i.test(e.name));
  if (yamlFile) return [yamlFile.name];
  const evidence: string[] = [];
  if (entries.some((e) => e.isFile() && e.name.toLowerCase() === "classes.txt")) evidence.push("classes.txt");
  const labels = await findChildDir(root, ["labels"]);
  if (labels && (await countFiles(labels, isTxt)) > 0) evidence.push(`${path.basename(labels)}/ (label .txt files)`);
  for (const split of ["train", "valid", "val"]) {
    const dir = await findChildDir(root, [split]);
    const splitLabels = dir && (await findChildDir(dir, ["labels"]));
    if (splitLabels && (await countFiles(splitLabels, isTxt)) > 0) evidence.push(path.relative(root, splitLabels) + "/");
  }
  return evidence;
}

async function detectImageFolder(root: string): Promise<string[]> {
  const train = await findChildDir(root, ["train"]);
  const base = train ?? root;
  const classDirs: string[] = [];
  for (const e of await names(base)) {
    if (!e.isDirectory() || e.name.startsWith(".")) continue;
    const files = await names(path.join(base, e.name));
    if (files.some((f) => f.isFile() && isImageFile(f.name))) classDirs.push(path.relative(root, path.join(base, e.name)) + "/");
  }
  return classDirs.length >= 2 ? classDirs.slice(0, 5) : [];
}

/** Recognises Pascal VOC, COCO, YOLO and ImageFolder layouts (checked in that order). */
export async function detectFormat(root: string): Promise<DetectedFormat> {
  const annotations = await findChildDir(root, ["Annotations"]);
  if (annotations) {
    const xml = await countFiles(annotations, (n) => n.toLowerCase().endsWith(".xml"));
    if (xml > 0) return { format: "voc", task: "detect", evidence: [`${path.basename(annotations)}/ (${xml}${xml >= 1000 ? "+" : ""} .xml files)`] };
  }
  const cocoFiles = await findCocoFiles(root);
  if (cocoFiles.length > 0) return { format: "coco", task: "detect", evidence: cocoFiles.map((f) => path.relative(root, f)) };
  const yolo = await detectYolo(root);
  if (yolo.length > 0) return { format: "yolo", task: "detect", evidence: yolo };
  const folders = await detectImageFolder(root);
  if (folders.length > 0) return { format: "imagefolder", task: "classify", evidence: folders };
  throw new DatasetError(
    `unrecognised dataset layout in ${root}: expected Annotations/*.xml (VOC), a COCO instances .json, ` +
      `data.yaml / classes.txt / labels/ (YOLO) or class folders of images (ImageFolder)`,
  );
}

/** Reads any detection dataset into a DetectIndex, whatever its format; a .yaml path is a YOLO data.yaml. */
export async function readDetectDataset(root: string, opts: DetectReadOptions = {}): Promise<DetectIndex> {
  if (isYamlPath(root)) return readYolo(root, opts);
  const { format, evidence } = await detectFormat(root);
  if (format === "voc") return readVoc(root, opts);
  if (format === "coco") return readCoco(root, opts);
  if (format === "yolo") return readYolo(root, opts);
  throw new DatasetError(`${root} is a classification dataset (${format}: ${evidence.join(", ")}), not a detection dataset`);
}
