/**
 * Loader throughput on this machine: `npx tsx server/ml/data/loader.bench.ts [images] [imgsz]`.
 * Prints images/s for decoding 64x64 JPEGs (no cache), a RAM-cached epoch, and decoding plus a typical
 * augmentation pipeline. A figure to compare against training speed, never a test.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeShapesImageFolder } from "./testing/shapes";
import { readImageFolder } from "./imagefolder";
import { createClassifyLoader, type ClassifyLoaderOptions } from "./loader";
import { parsePipeline } from "../augment/pipeline";

const images = Number(process.argv[2] ?? 1500);
const imgsz = Number(process.argv[3] ?? 64);

async function timeEpochs(label: string, items: Awaited<ReturnType<typeof readImageFolder>>["items"], opts: Partial<ClassifyLoaderOptions>, epochs: number[]) {
  const loader = createClassifyLoader(items, { imgsz, batch: 32, shuffle: true, seed: 0, ...opts });
  for (const epoch of epochs) {
    const start = performance.now();
    let count = 0;
    for await (const batch of loader.epoch(epoch)) count += batch.size;
    const seconds = (performance.now() - start) / 1000;
    console.log(`${label.padEnd(40)} epoch ${epoch}: ${Math.round(count / seconds).toLocaleString("en")} images/s`);
  }
  await loader.close();
}

const dir = await mkdtemp(path.join(os.tmpdir(), "loader-bench-"));
try {
  const perClass = Math.ceil(images / 3);
  await makeShapesImageFolder(dir, { classes: 3, perClass, size: imgsz, seed: 0, layout: "flat" });
  const { items } = await readImageFolder(dir, { ratios: { train: 1, val: 0, test: 0 } });
  console.log(`${items.length} JPEGs of ${imgsz}x${imgsz}, batch 32, ${os.cpus().length} cores`);
  await timeEpochs("decode (no cache)", items, { cache: false }, [0, 1]);
  await timeEpochs("ram cache", items, { cache: "ram" }, [0, 1]);
  const augment = parsePipeline([{ op: "hflip" }, { op: "random_resized_crop", scale: [0.5, 1] }, { op: "brightness" }, { op: "hue" }]);
  await timeEpochs("ram cache + hflip/crop/brightness/hue", items, { cache: "ram", augment }, [0, 1]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
