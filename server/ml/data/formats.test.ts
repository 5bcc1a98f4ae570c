import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { detectFormat } from "./detect-format";
import { DATASET_FORMATS, readDataset } from "./formats";

async function put(file: string, body: string | Buffer) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, body);
}

describe("dataset format registry", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "formats-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("has one entry per format name, each with a task", () => {
    const names = DATASET_FORMATS.map((entry) => entry.name);
    expect(new Set(names).size).toBe(names.length);
    expect(Object.fromEntries(DATASET_FORMATS.map((entry) => [entry.name, entry.task]))).toEqual({ voc: "detect", coco: "detect", yolo: "detect", imagefolder: "classify" });
  });

  it("reads a folder with the reader of the format its sniffer found", async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#808080" } }).jpeg().toBuffer();
    const yolo = path.join(root, "yolo");
    await put(path.join(yolo, "data.yaml"), "names: [dot]\n");
    for (const name of ["a", "b"]) {
      await put(path.join(yolo, "images", `${name}.jpg`), jpeg);
      await put(path.join(yolo, "labels", `${name}.txt`), "0 0.5 0.5 0.25 0.25\n");
    }
    const detected = await detectFormat(yolo);
    expect(detected.format).toBe("yolo");
    const index = await readDataset(yolo, detected.format, { seed: 0 });
    expect(index).toMatchObject({ format: "yolo", task: "detect", classes: ["dot"] });
    expect(index.items).toHaveLength(2);

    const folder = path.join(root, "folder");
    for (const cls of ["cats", "dogs"]) for (const i of [1, 2]) await put(path.join(folder, cls, `${i}.jpg`), jpeg);
    const classify = await readDataset(folder, (await detectFormat(folder)).format, { seed: 0 });
    expect(classify).toMatchObject({ format: "imagefolder", task: "classify", classes: ["cats", "dogs"] });
  });
});
