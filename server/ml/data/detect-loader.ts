// Detection batches: letterbox to imgsz, optional 4-image mosaic (switched off for the last `closeMosaic`
// epochs, as Ultralytics' close_mosaic), then the box-aware augmentation pipeline; seeded per
// (seed, epoch, index) so resume and prefetch order never change a sample.

import { transformBoxes, warpAffine, type Box } from "../augment/geometry";
import { applyPipeline, parsePipeline, type AugmentPipeline } from "../augment/pipeline";
import { createRng, type Rng } from "../augment/rng";
import { createBatchLoader, type BatchLoader } from "./prefetch";
import type { DetectItem } from "./detect-index";
import { decodeImage, DEFAULT_MAX_PIXELS, ImageDecodeError, letterbox, type RgbImage } from "./image";
import type { SkippedFile } from "./imagefolder";

export interface DetectBatch {
  /** size * imgsz * imgsz * 3 values in [0, 1], NHWC. */
  x: Float32Array;
  /** Per image: normalised centre boxes in the imgsz x imgsz input. */
  boxes: Box[][];
  paths: string[];
  size: number;
  imgsz: number;
}

export interface DetectLoaderOptions {
  imgsz: number;
  batch: number;
  shuffle: boolean;
  seed: number;
  /** Box-aware pipeline applied after letterbox/mosaic (training loader only). */
  augment?: AugmentPipeline;
  /** Probability of a 4-image mosaic per sample (Ultralytics default 1.0 for training, 0 for validation). */
  mosaic?: number;
  /** Mosaic is off for the last `closeMosaic` of `epochs` epochs (epochs are 1-based). */
  closeMosaic?: number;
  epochs?: number;
  /** Keep decoded, letterboxed images in memory. */
  cache?: "ram" | false;
  dropLast?: boolean;
  maxPixels?: number;
  prefetch?: number;
}

export type DetectLoader = BatchLoader<DetectBatch>;

interface Sample {
  img: RgbImage;
  boxes: Box[];
}

const PAD = 114;

/** Boxes of the source image mapped into its letterboxed square. */
function letterboxBoxes(boxes: Box[], width: number, height: number, scale: number, padX: number, padY: number, size: number): Box[] {
  return boxes.map((b) => ({
    cls: b.cls,
    x: (b.x * width * scale + padX) / size,
    y: (b.y * height * scale + padY) / size,
    w: (b.w * width * scale) / size,
    h: (b.h * height * scale) / size,
  }));
}

/**
 * Four letterboxed tiles around a random centre of a 2s x 2s canvas (Ultralytics load_mosaic, with
 * letterboxed tiles), then the s x s window centred on the canvas.
 */
function mosaic(tiles: Sample[], size: number, rng: Rng): Sample {
  const canvasSize = 2 * size;
  const canvas = new Uint8Array(canvasSize * canvasSize * 3).fill(PAD);
  const xc = Math.floor(rng.uniform(size / 2, (3 * size) / 2));
  const yc = Math.floor(rng.uniform(size / 2, (3 * size) / 2));
  const boxes: Box[] = [];
  tiles.forEach((tile, i) => {
    // Corner of the tile on the canvas: top-left, top-right, bottom-left, bottom-right of the centre.
    const left = i % 2 === 0 ? xc - size : xc;
    const top = i < 2 ? yc - size : yc;
    for (let y = Math.max(0, top); y < Math.min(canvasSize, top + size); y++) {
      const x0 = Math.max(0, left);
      const x1 = Math.min(canvasSize, left + size);
      const src = ((y - top) * size + (x0 - left)) * 3;
      canvas.set(tile.img.data.subarray(src, src + (x1 - x0) * 3), (y * canvasSize + x0) * 3);
    }
    for (const b of tile.boxes) {
      boxes.push({ cls: b.cls, x: (b.x * size + left) / canvasSize, y: (b.y * size + top) / canvasSize, w: (b.w * size) / canvasSize, h: (b.h * size) / canvasSize });
    }
  });
  const crop: [number, number, number, number, number, number] = [1, 0, -size / 2, 0, 1, -size / 2];
  const img = warpAffine({ data: canvas, width: canvasSize, height: canvasSize }, crop, size, size, PAD);
  return { img, boxes: transformBoxes(boxes, crop, canvasSize, canvasSize, size, size) };
}

function reasonOf(error: unknown): string {
  if (error instanceof ImageDecodeError) return error.reason;
  if ((error as NodeJS.ErrnoException)?.code === "ENOENT") return "file not found";
  return error instanceof Error ? error.message : String(error);
}

export function createDetectLoader(items: DetectItem[], opts: DetectLoaderOptions): DetectLoader {
  const { imgsz, batch, shuffle, seed, dropLast = false } = opts;
  if (!Number.isInteger(imgsz) || imgsz < 32 || imgsz % 32 !== 0) throw new Error(`imgsz must be a multiple of 32, got ${imgsz}`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  const augment = opts.augment && opts.augment.length > 0 ? parsePipeline(opts.augment) : null;
  const mosaicP = opts.mosaic ?? 0;
  const lastMosaicEpoch = (opts.epochs ?? Infinity) - (opts.closeMosaic ?? 0);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const prefetch = opts.prefetch ?? Math.max(16, 2 * batch);
  const pixelsPerImage = imgsz * imgsz * 3;
  const cache = new Map<number, Sample>();
  const unreadable = new Set<number>();
  const skipped: SkippedFile[] = [];

  async function load(index: number): Promise<Sample | null> {
    const cached = cache.get(index);
    if (cached) return cached;
    const item = items[index];
    try {
      const source = await decodeImage(item.path, { maxPixels });
      const boxed = await letterbox(source, imgsz, PAD);
      const sample = { img: boxed.img, boxes: letterboxBoxes(item.boxes, source.width, source.height, boxed.scale, boxed.padX, boxed.padY, imgsz) };
      if (opts.cache === "ram") cache.set(index, sample);
      return sample;
    } catch (error) {
      if (!unreadable.has(index)) {
        unreadable.add(index);
        skipped.push({ path: item.path, reason: reasonOf(error) });
      }
      return null;
    }
  }

  async function prepare(index: number, epoch: number): Promise<Sample | null> {
    const rng = createRng(seed).fork(`detect:${epoch}`).fork(index);
    let sample = await load(index);
    if (!sample) return null;
    if (mosaicP > 0 && epoch <= lastMosaicEpoch && rng.next() < mosaicP && items.length > 1) {
      const others = [rng.int(items.length), rng.int(items.length), rng.int(items.length)];
      const tiles = [sample];
      for (const other of others) tiles.push((await load(other)) ?? sample);
      sample = mosaic(tiles, imgsz, rng);
    }
    if (!augment) return sample;
    return applyPipeline(sample.img, augment, rng, sample.boxes);
  }

  function makeBatch(samples: { sample: Sample; path: string }[]): DetectBatch {
    const x = new Float32Array(samples.length * pixelsPerImage);
    samples.forEach(({ sample }, i) => {
      const offset = i * pixelsPerImage;
      for (let j = 0; j < pixelsPerImage; j++) x[offset + j] = sample.img.data[j] / 255;
    });
    return { x, boxes: samples.map((s) => s.sample.boxes), paths: samples.map((s) => s.path), size: samples.length, imgsz };
  }

  return createBatchLoader({
    itemCount: items.length,
    shuffle,
    seed,
    prefetch,
    batch,
    dropLast,
    unreadable,
    skipped,
    prepare,
    makeBatch: (samples) => makeBatch(samples.map(({ index, value }) => ({ sample: value, path: items[index].path }))),
    release: () => cache.clear(),
  });
}
