import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeShapesImageFolder } from "./shapes";
import { readImageFolder } from "../imagefolder";
import { decodeImage, type RgbImage } from "../image";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "shapes-test-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * Share of the foreground's bounding box that the foreground fills: ~1 square, ~0.79 circle, ~0.5 triangle.
 * Background = mean border colour; the box spans rows/columns with at least 3 foreground pixels, so stray
 * noisy pixels do not stretch it.
 */
function fillRatio(img: RgbImage): number {
  const { width: W, height: H, data } = img;
  const background = [0, 0, 0];
  let borderPixels = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (x !== 0 && y !== 0 && x !== W - 1 && y !== H - 1) continue;
      for (let c = 0; c < 3; c++) background[c] += data[(y * W + x) * 3 + c];
      borderPixels++;
    }
  }
  const [r, g, b] = background.map((v) => v / borderPixels);
  const rows = new Array<number>(H).fill(0);
  const cols = new Array<number>(W).fill(0);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      if (Math.hypot(data[o] - r, data[o + 1] - g, data[o + 2] - b) < 75) continue;
      rows[y]++;
      cols[x]++;
    }
  }
  const span = (counts: number[]) => {
    const filled = counts.map((n, i) => (n >= 3 ? i : -1)).filter((i) => i >= 0);
    return { first: filled[0], last: filled[filled.length - 1] };
  };
  const ys = span(rows);
  const xs = span(cols);
  const inside = rows.slice(ys.first, ys.last + 1).reduce((a, n) => a + n, 0);
  return inside / ((xs.last - xs.first + 1) * (ys.last - ys.first + 1));
}

describe("makeShapesImageFolder", () => {
  it("writes a split ImageFolder that readImageFolder reads back", async () => {
    const root = path.join(dir, "split");
    const made = await makeShapesImageFolder(root, { classes: 3, perClass: 10, size: 32, seed: 1 });
    const index = await readImageFolder(root);
    expect(index.classes).toEqual([...made.classes].sort());
    expect(index.items.filter((i) => i.split === "train")).toHaveLength(24);
    expect(index.items.filter((i) => i.split === "val")).toHaveLength(6);
  });

  it("is reproducible for a seed", async () => {
    const a = await makeShapesImageFolder(path.join(dir, "a"), { classes: 2, perClass: 2, size: 24, seed: 9, layout: "flat" });
    const b = await makeShapesImageFolder(path.join(dir, "b"), { classes: 2, perClass: 2, size: 24, seed: 9, layout: "flat" });
    const first = await decodeImage(a.files[0].path);
    expect((await decodeImage(b.files[0].path)).data).toEqual(first.data);
    expect((await decodeImage(a.files[1].path)).data).not.toEqual(first.data);
  });

  it("makes the class recoverable from shape alone (a learnable dataset)", async () => {
    const made = await makeShapesImageFolder(path.join(dir, "learnable"), { classes: 3, perClass: 30, size: 64, seed: 4, layout: "flat" });
    const byName = { circle: 0, square: 1, triangle: 2 } as Record<string, number>;
    let correct = 0;
    for (const file of made.files) {
      const ratio = fillRatio(await decodeImage(file.path));
      const guess = ratio < 0.65 ? byName.triangle : ratio < 0.9 ? byName.circle : byName.square;
      if (guess === byName[made.classes[file.label]]) correct++;
    }
    expect(correct / made.files.length).toBeGreaterThanOrEqual(0.95);
  });

  it("rejects an unsupported class count", async () => {
    await expect(makeShapesImageFolder(path.join(dir, "x"), { classes: 9 })).rejects.toThrow(/1\.\.6 classes/);
  });
});
