/**
 * A synthetic, learnable classification dataset for tests: the class is the shape (circle, square,
 * triangle, ...), while colours, position, size and background noise are random, so a model has to
 * learn shape rather than colour.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { createRng, type Rng } from "../../augment/rng";

export const SHAPE_CLASSES = ["circle", "square", "triangle", "cross", "ring", "diamond"] as const;

export interface ShapesOptions {
  classes?: number;
  /** Images per class (in the split layout, about 20% of them, at least 1, go to val). */
  perClass?: number;
  size?: number;
  seed?: number;
  /** "split": dir/{train,val}/<class>/*.jpg; "flat": dir/<class>/*.jpg */
  layout?: "split" | "flat";
}

export interface ShapesDataset { root: string; classes: string[]; files: { path: string; label: number }[] }

type Inside = (dx: number, dy: number, r: number) => boolean;

const shapeTests: Record<(typeof SHAPE_CLASSES)[number], Inside> = {
  circle: (dx, dy, r) => dx * dx + dy * dy <= r * r,
  square: (dx, dy, r) => Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85,
  triangle: (dx, dy, r) => dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= ((dy + r) / 1.8) * 1.1,
  cross: (dx, dy, r) => (Math.abs(dx) <= r * 0.3 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.3 && Math.abs(dx) <= r),
  ring: (dx, dy, r) => dx * dx + dy * dy <= r * r && dx * dx + dy * dy >= r * r * 0.36,
  diamond: (dx, dy, r) => Math.abs(dx) + Math.abs(dy) <= r,
};

function luma([r, g, b]: [number, number, number]): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/**
 * Random colours, but the shape is always clearly lighter than the background: with a fixed polarity a
 * small CNN learns the outline within a few epochs, while colour alone still says nothing about the class.
 */
function shapeColours(rng: Rng): { background: [number, number, number]; foreground: [number, number, number] } {
  for (;;) {
    const background: [number, number, number] = [rng.int(150), rng.int(150), rng.int(150)];
    const foreground: [number, number, number] = [100 + rng.int(156), 100 + rng.int(156), 100 + rng.int(156)];
    if (luma(foreground) - luma(background) >= 80) return { background, foreground };
  }
}

export function drawShape(shape: (typeof SHAPE_CLASSES)[number], size: number, rng: Rng): Uint8Array {
  const { background, foreground } = shapeColours(rng);
  const radius = size * rng.uniform(0.25, 0.42);
  const cx = rng.uniform(radius, size - radius);
  const cy = rng.uniform(radius, size - radius);
  const inside = shapeTests[shape];
  const pixels = new Uint8ClampedArray(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const colour = inside(x + 0.5 - cx, y + 0.5 - cy, radius) ? foreground : background;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) pixels[o + c] = colour[c] + rng.normal() * 8;
    }
  }
  return new Uint8Array(pixels.buffer);
}

export async function makeShapesImageFolder(dir: string, opts: ShapesOptions = {}): Promise<ShapesDataset> {
  const { classes: classCount = 3, perClass = 20, size = 64, seed = 0, layout = "split" } = opts;
  if (classCount < 1 || classCount > SHAPE_CLASSES.length) {
    throw new Error(`shapes dataset supports 1..${SHAPE_CLASSES.length} classes, got ${classCount}`);
  }
  const classes = SHAPE_CLASSES.slice(0, classCount);
  const rng = createRng(seed);
  const files: ShapesDataset["files"] = [];
  const valCount = Math.max(1, Math.round(perClass * 0.2));
  for (const [label, shape] of classes.entries()) {
    const classRng = rng.fork(shape);
    for (let i = 0; i < perClass; i++) {
      const split = i < perClass - valCount ? "train" : "val";
      const folder = layout === "split" ? path.join(dir, split, shape) : path.join(dir, shape);
      await mkdir(folder, { recursive: true });
      const file = path.join(folder, `${shape}_${String(i).padStart(4, "0")}.jpg`);
      const pixels = drawShape(shape, size, classRng.fork(i));
      await sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 92 }).toFile(file);
      files.push({ path: file, label });
    }
  }
  return { root: dir, classes: [...classes], files };
}
