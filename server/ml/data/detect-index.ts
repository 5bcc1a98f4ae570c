// The one in-memory index every detection dataset format is read into (YOLO, COCO, Pascal VOC).

import { readdir } from "node:fs/promises";
import path from "node:path";
import type { Box } from "../augment/geometry";
import { createRng, shuffleInPlace } from "../augment/rng";
import type { DetectFormat } from "./formats";
import { DatasetError, DEFAULT_SPLIT_RATIOS, isImageFile, type SkippedFile, type Split, type SplitRatios } from "./imagefolder";

export interface DetectBox extends Box {
  /** Pascal VOC "difficult" objects: kept, flagged so evaluation may ignore them. */
  difficult?: boolean;
}

export interface DetectItem {
  path: string;
  split: Split;
  width?: number;
  height?: number;
  /** Normalised centre x, centre y, width, height; empty = background image. */
  boxes: DetectBox[];
}

/** A label that was not used, with where it came from. */
export interface LabelProblem {
  path: string;
  line?: number;
  reason: string;
}

export interface DetectIndex {
  root: string;
  format: DetectFormat;
  task: "detect";
  classes: string[];
  items: DetectItem[];
  problems: LabelProblem[];
  skipped: SkippedFile[];
}

/** How any dataset reader splits images when the dataset has no split of its own. */
export interface DetectReadOptions {
  /** Used when the dataset has no split of its own (or no val split): seeded split of the images. */
  ratios?: SplitRatios;
  seed?: number;
}

/** Tolerance for normalised coordinates written with rounding (e.g. 1.0000001). */
const COORD_TOLERANCE = 1e-6;

/** Why a normalised box cannot be used, or null when it can. Values are clipped to [0,1] within tolerance. */
export function checkBox(box: Box, numClasses: number): string | null {
  const { cls, x, y, w, h } = box;
  if (!Number.isInteger(cls) || cls < 0) return `class id ${cls} is not a non-negative integer`;
  if (cls >= numClasses) return `class id ${cls} is not below the number of classes (${numClasses})`;
  for (const [name, v] of [["x", x], ["y", y], ["w", w], ["h", h]] as const) {
    if (!Number.isFinite(v) || v < -COORD_TOLERANCE || v > 1 + COORD_TOLERANCE) return `${name} = ${v} is outside [0, 1]`;
  }
  if (w <= 0 || h <= 0) return `zero-area box (w = ${w}, h = ${h})`;
  return null;
}

export function clampBox<T extends Box>(box: T): T {
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return { ...box, x: clamp(box.x), y: clamp(box.y), w: clamp(box.w), h: clamp(box.h) };
}

/** Seeded split of items that have none, in the proportions of `ratios`; keeps at least one training item. */
export function splitByRatios<T extends { path: string }>(items: T[], ratios: SplitRatios, seed: number): Map<T, Split> {
  const sum = ratios.train + ratios.val + ratios.test;
  if (!(ratios.train > 0) || !(sum > 0) || ratios.val < 0 || ratios.test < 0) {
    throw new DatasetError(`split ratios need a positive train share, got train=${ratios.train} val=${ratios.val} test=${ratios.test}`);
  }
  const order = shuffleInPlace([...items].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), createRng(seed).fork("detect-split"));
  const n = order.length;
  let nVal = Math.round((n * ratios.val) / sum);
  let nTest = Math.round((n * ratios.test) / sum);
  if (ratios.val > 0 && nVal === 0 && n >= 2) nVal = 1;
  while (nVal + nTest > n - 1 && nVal + nTest > 0) {
    if (nTest >= nVal && nTest > 0) nTest--;
    else nVal--;
  }
  const splits = new Map<T, Split>();
  order.forEach((item, i) => splits.set(item, i < nVal ? "val" : i < nVal + nTest ? "test" : "train"));
  return splits;
}

/** When a dataset brings training data but no val split, carve val out of train with `ratios.val`. */
export function ensureValSplit(items: DetectItem[], opts: DetectReadOptions): void {
  if (items.some((i) => i.split === "val")) return;
  const ratios = opts.ratios ?? DEFAULT_SPLIT_RATIOS;
  const train = items.filter((i) => i.split === "train");
  const carved = splitByRatios(train, { train: 1 - ratios.val, val: ratios.val, test: 0 }, opts.seed ?? 0);
  for (const item of train) item.split = carved.get(item) ?? "train";
}

export async function listImages(dir: string, recursive: boolean): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith(".") || e.name === "__MACOSX") continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory() && recursive) out.push(...(await listImages(full, true)));
    else if (e.isFile() && isImageFile(e.name)) out.push(full);
  }
  return out;
}

/** Case-insensitive child folder lookup (datasets come from Windows and macOS as often as from Linux). */
export async function findChildDir(dir: string, names: string[]): Promise<string | null> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const name of names) {
    const hit = entries.find((e) => e.isDirectory() && e.name.toLowerCase() === name.toLowerCase());
    if (hit) return path.join(dir, hit.name);
  }
  return null;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Problems in file then line order, so reports do not depend on read concurrency. */
export function sortProblems(problems: LabelProblem[]): LabelProblem[] {
  return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : (a.line ?? 0) - (b.line ?? 0)));
}

export { DatasetError };
