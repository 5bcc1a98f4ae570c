// Writes a small YOLO-format dataset of coloured shapes for tests and benchmarks: each class is a shape with
// its own colour on a noisy grey background, 1–4 objects per image.

import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { createRng, type Rng } from "../../augment/rng";
import type { Box } from "../../augment/geometry";
import type { TrainConfigInput } from "../../train/config";
import { yolov8Graph, YOLOV8_SCALES } from "../../zoo/yolov8";

export const SHAPE_CLASSES = ["red_square", "green_circle", "blue_triangle"] as const;
const COLOURS: [number, number, number][] = [
  [220, 40, 40],
  [40, 200, 60],
  [40, 70, 220],
];

export interface ShapesDatasetOptions {
  train: number;
  val: number;
  seed: number;
  /** Number of classes (≤ 3). */
  classes?: number;
  minSize?: number;
  maxSize?: number;
}

function inside(cls: number, u: number, v: number): boolean {
  // u, v in [-1, 1] relative to the box
  if (cls === 0) return true;
  if (cls === 1) return u * u + v * v <= 1;
  return Math.abs(u) <= (v + 1) / 2; // triangle, apex at the top centre
}

/** Draws one image; returns its pixels and normalised boxes. */
export function drawShapesImage(rng: Rng, width: number, height: number, numClasses: number): { data: Uint8Array; boxes: Box[] } {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = 110 + rng.int(40);
  const count = 1 + rng.int(4);
  const boxes: Box[] = [];
  for (let k = 0; k < count; k++) {
    const cls = rng.int(numClasses);
    const w = Math.round(rng.uniform(0.2, 0.4) * width);
    const h = cls === 0 || cls === 1 ? w : Math.round(rng.uniform(0.2, 0.4) * height);
    const x0 = rng.int(width - w);
    const y0 = rng.int(height - h);
    const [r, g, b] = COLOURS[cls];
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) {
        const u = ((x + 0.5 - x0) / w) * 2 - 1;
        const v = ((y + 0.5 - y0) / h) * 2 - 1;
        if (!inside(cls, u, v)) continue;
        data.set([r, g, b], (y * width + x) * 3);
      }
    }
    boxes.push({ cls, x: (x0 + w / 2) / width, y: (y0 + h / 2) / height, w: w / width, h: h / height });
  }
  return { data, boxes };
}

/** Creates root/{data.yaml, images/{train,val}, labels/{train,val}}. */
export async function writeShapesDataset(root: string, opts: ShapesDatasetOptions): Promise<void> {
  const numClasses = opts.classes ?? 3;
  const rng = createRng(opts.seed);
  const minSize = opts.minSize ?? 96;
  const maxSize = opts.maxSize ?? 128;
  const names = SHAPE_CLASSES.slice(0, numClasses);
  await writeFile(path.join(await ensure(root), "data.yaml"), `path: .\ntrain: images/train\nval: images/val\nnames: [${names.join(", ")}]\n`);
  for (const [split, count] of [["train", opts.train], ["val", opts.val]] as const) {
    const imageDir = await ensure(path.join(root, "images", split));
    const labelDir = await ensure(path.join(root, "labels", split));
    for (let i = 0; i < count; i++) {
      const width = minSize + rng.int(maxSize - minSize + 1);
      const height = minSize + rng.int(maxSize - minSize + 1);
      const { data, boxes } = drawShapesImage(rng, width, height, numClasses);
      const name = `${split}_${String(i).padStart(4, "0")}`;
      await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(path.join(imageDir, `${name}.png`));
      const lines = boxes.map((b) => `${b.cls} ${b.x.toFixed(6)} ${b.y.toFixed(6)} ${b.w.toFixed(6)} ${b.h.toFixed(6)}`);
      await writeFile(path.join(labelDir, `${name}.txt`), lines.join("\n") + "\n");
    }
  }
}

async function ensure(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

/** The dataset of the detection learning check, written to `<root>/data`. */
export const SHAPES_LEARNING_DATA: ShapesDatasetOptions = { train: 128, val: 16, seed: 1, classes: 3 };

/**
 * The detection learning check every training engine must pass (mAP50 ≥ 0.5): a width-scaled yolov8n for 15
 * epochs on SHAPES_LEARNING_DATA written to `<root>/data`.
 */
export function shapesLearningRun(root: string, device: string): TrainConfigInput {
  return {
    task: "detect",
    data: path.join(root, "data"),
    model: yolov8Graph({ numClasses: 3, scale: YOLOV8_SCALES.n, width: 0.25 }),
    imgsz: 64,
    epochs: 15,
    batch: 16,
    optimizer: "Adam",
    lr0: 0.01,
    warmup_epochs: 1,
    seed: 0,
    mosaic: 0,
    device,
    runsDir: path.join(root, "runs"),
  };
}
