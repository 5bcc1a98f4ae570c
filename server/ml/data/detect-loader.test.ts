import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { createDetectLoader, type DetectBatch } from "./detect-loader";
import type { DetectItem } from "./detect-index";

const RED = [255, 0, 0];

/** A w x h grey image with a red rectangle; returns its item (box normalised). */
async function redBoxImage(file: string, w: number, h: number, rect: [number, number, number, number]): Promise<DetectItem> {
  const data = new Uint8Array(w * h * 3).fill(128);
  const [x0, y0, x1, y1] = rect;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data.set(RED, (y * w + x) * 3);
  await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
  return { path: file, split: "train", boxes: [{ cls: 0, x: (x0 + x1) / 2 / w, y: (y0 + y1) / 2 / h, w: (x1 - x0) / w, h: (y1 - y0) / h }] };
}

async function collect(loader: ReturnType<typeof createDetectLoader>, epoch: number): Promise<DetectBatch[]> {
  const out: DetectBatch[] = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  return out;
}

/** Every box centre of every image in the batch lands on a red pixel. */
function boxesSitOnRed(batch: DetectBatch): boolean {
  const s = batch.imgsz;
  return batch.boxes.every((boxes, i) =>
    boxes.every((b) => {
      const px = Math.min(s - 1, Math.floor(b.x * s));
      const py = Math.min(s - 1, Math.floor(b.y * s));
      const o = i * s * s * 3 + (py * s + px) * 3;
      return batch.x[o] > 0.8 && batch.x[o + 1] < 0.2 && batch.x[o + 2] < 0.2;
    }),
  );
}

describe("createDetectLoader", () => {
  let root: string;
  const items: DetectItem[] = [];
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "detect-loader-"));
    await mkdir(root, { recursive: true });
    items.push(await redBoxImage(path.join(root, "wide.png"), 128, 64, [16, 8, 48, 40]));
    items.push(await redBoxImage(path.join(root, "tall.png"), 48, 96, [10, 50, 40, 90]));
    items.push(await redBoxImage(path.join(root, "square.png"), 64, 64, [30, 30, 60, 60]));
    items.push(await redBoxImage(path.join(root, "small.png"), 40, 40, [0, 0, 20, 20]));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("letterboxes images and maps boxes into the padded square", async () => {
    const loader = createDetectLoader(items, { imgsz: 64, batch: 4, shuffle: false, seed: 0 });
    const [batch] = await collect(loader, 1);
    expect(batch.size).toBe(4);
    // 128x64 -> scale 0.5, 64x32 placed at padY 16: box (16..48, 8..40) -> x 8..24, y 20..36
    expect(batch.boxes[0][0].x).toBeCloseTo(16 / 64, 5);
    expect(batch.boxes[0][0].y).toBeCloseTo(28 / 64, 5);
    expect(batch.boxes[0][0].w).toBeCloseTo(16 / 64, 5);
    expect(batch.x[0]).toBeCloseTo(114 / 255, 5); // padding row
    expect(boxesSitOnRed(batch)).toBe(true);
  });

  it("builds mosaics with boxes that still sit on their objects, reproducibly, and stops them for close_mosaic", async () => {
    const augment = [{ op: "hflip" as const, p: 0.5 }, { op: "translate" as const, p: 0.5, fraction: 0.1, fill: 114 }];
    const opts = { imgsz: 64, batch: 4, shuffle: true, seed: 3, mosaic: 1, closeMosaic: 1, epochs: 3, augment };
    const a = await collect(createDetectLoader(items, opts), 1);
    const b = await collect(createDetectLoader(items, opts), 1);
    expect(a[0].x).toEqual(b[0].x);
    expect(a[0].boxes).toEqual(b[0].boxes);
    expect(a.every(boxesSitOnRed)).toBe(true);
    // a mosaic gathers objects from several images
    expect(Math.max(...a[0].boxes.map((boxes) => boxes.length))).toBeGreaterThan(1);
    const last = await collect(createDetectLoader(items, opts), 3);
    expect(last[0].boxes.every((boxes) => boxes.length <= 1)).toBe(true);
    expect(last.every(boxesSitOnRed)).toBe(true);
  });

  it("skips unreadable files and reports them", async () => {
    const loader = createDetectLoader([...items, { path: path.join(root, "missing.png"), split: "train", boxes: [] }], { imgsz: 64, batch: 8, shuffle: false, seed: 0 });
    const [batch] = await collect(loader, 1);
    expect(batch.size).toBe(4);
    expect(loader.skipped).toEqual([{ path: path.join(root, "missing.png"), reason: "file not found" }]);
  });
});
