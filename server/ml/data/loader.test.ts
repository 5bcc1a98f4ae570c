import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createClassifyLoader, type Batch, type ClassifyLoaderOptions } from "./loader";
import { readImageFolder, type ClassifyItem } from "./imagefolder";
import { makeShapesImageFolder } from "./testing/shapes";
import { parsePipeline } from "../augment/pipeline";

let dir: string;
let items: ClassifyItem[];
const corruptName = "zz_corrupt.jpg";

async function collect(loaderItems: ClassifyItem[], opts: Partial<ClassifyLoaderOptions>, epoch = 0): Promise<Batch[]> {
  const loader = createClassifyLoader(loaderItems, { imgsz: 32, batch: 5, shuffle: true, seed: 1, ...opts });
  const batches: Batch[] = [];
  for await (const batch of loader.epoch(epoch)) batches.push(batch);
  await loader.close();
  return batches;
}

const concat = (batches: Batch[]) => Buffer.concat(batches.map((b) => Buffer.from(b.x.buffer)));

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "loader-test-"));
  await makeShapesImageFolder(path.join(dir, "data"), { classes: 3, perClass: 8, size: 40, seed: 2, layout: "flat" });
  // A file that looks like an image by name but is cut off: header readable, pixel data missing.
  await writeFile(path.join(dir, "data", "circle", corruptName), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70]));
  items = (await readImageFolder(path.join(dir, "data"), { ratios: { train: 1, val: 0, test: 0 } })).items;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("createClassifyLoader", () => {
  it("yields [0,1] NHWC float batches with labels and skips an unreadable file without crashing", async () => {
    const loader = createClassifyLoader(items, { imgsz: 32, batch: 5, shuffle: true, seed: 1 });
    expect(loader.count).toBe(25);
    const batches: Batch[] = [];
    for await (const batch of loader.epoch(0)) batches.push(batch);
    expect(batches.map((b) => b.size)).toEqual([5, 5, 5, 5, 4]);
    expect(batches[0].x.length).toBe(5 * 32 * 32 * 3);
    expect(batches[0].imgsz).toBe(32);
    const all = batches.flatMap((b) => [...b.x]);
    expect(Math.min(...all)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...all)).toBeLessThanOrEqual(1);
    expect(batches.flatMap((b) => [...b.y]).sort()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(loader.skipped).toHaveLength(1);
    expect(loader.skipped[0].path.endsWith(corruptName)).toBe(true);
    expect(loader.skipped[0].reason).toMatch(/truncated or corrupt|unsupported/);
    expect(loader.count).toBe(24);
    expect(loader.length).toBe(5);
    // The bad file is left out of later epochs and reported once.
    let later = 0;
    for await (const batch of loader.epoch(1)) later += batch.size;
    expect(later).toBe(24);
    expect(loader.skipped).toHaveLength(1);
    await loader.close();
    expect(() => loader.epoch(2)).toThrow(/closed/);
  });

  it("gives the same batches for the same seed and epoch, another order for another epoch or seed", async () => {
    const a = await collect(items, {});
    const b = await collect(items, {});
    expect(concat(a).equals(concat(b))).toBe(true);
    expect(a.map((x) => [...x.y])).toEqual(b.map((x) => [...x.y]));
    expect(concat(await collect(items, {}, 1)).equals(concat(a))).toBe(false);
    expect(concat(await collect(items, { seed: 2 })).equals(concat(a))).toBe(false);
  });

  it("keeps the file order when shuffle is off and honours dropLast", async () => {
    const batches = await collect(items, { shuffle: false, dropLast: true });
    expect(batches.map((b) => b.size)).toEqual([5, 5, 5, 5]);
    expect([...batches[0].y]).toEqual([0, 0, 0, 0, 0]);
  });

  it("gives identical tensors with ram, disk and no cache, and reuses the disk cache", async () => {
    const cacheDir = path.join(dir, "cache");
    const none = concat(await collect(items, { cache: false }));
    const ram = createClassifyLoader(items, { imgsz: 32, batch: 5, shuffle: true, seed: 1, cache: "ram" });
    const disk = createClassifyLoader(items, { imgsz: 32, batch: 5, shuffle: true, seed: 1, cache: "disk", cacheDir });
    for (const loader of [ram, disk]) {
      for (const epoch of [0, 0]) {
        const batches: Batch[] = [];
        for await (const batch of loader.epoch(epoch)) batches.push(batch);
        expect(concat(batches).equals(none)).toBe(true);
      }
      await loader.close();
    }
    const entries = (await readdir(cacheDir)).filter((f) => f.endsWith("-32x32.rgb"));
    expect(entries).toHaveLength(24);
    // A new loader (e.g. a new run) finds the entries by content hash.
    expect(concat(await collect(items, { cache: "disk", cacheDir })).equals(none)).toBe(true);
    expect(() => createClassifyLoader(items, { imgsz: 32, batch: 5, shuffle: true, seed: 1, cache: "disk" })).toThrow(/cacheDir/);
  });

  it("augments deterministically per (seed, epoch, item), independent of prefetch depth", async () => {
    const augment = parsePipeline([{ op: "hflip" }, { op: "rotate", degrees: 20 }, { op: "brightness" }, { op: "noise", std: 0.02 }]);
    const plain = concat(await collect(items, {}));
    const deep = concat(await collect(items, { augment, prefetch: 64 }));
    const shallow = concat(await collect(items, { augment, prefetch: 1 }));
    expect(deep.equals(shallow)).toBe(true);
    expect(deep.equals(plain)).toBe(false);
    const unshuffled0 = concat(await collect(items, { augment, shuffle: false }, 0));
    const unshuffled1 = concat(await collect(items, { augment, shuffle: false }, 1));
    expect(unshuffled0.equals(unshuffled1)).toBe(false);
  });

  it("rejects bad options and invalid pipelines", () => {
    expect(() => createClassifyLoader(items, { imgsz: 32, batch: 0, shuffle: true, seed: 1 })).toThrow(/batch must be a positive integer/);
    expect(() => createClassifyLoader(items, { imgsz: 32, batch: 4, shuffle: true, seed: 1, augment: [{ op: "hflip", p: 3 }] })).toThrow("pipeline[0].p: must be ≤ 1");
  });
});
