import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { detectFormat, readDetectDataset } from "./detect-format";

async function touch(file: string, body = "") {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, body);
}

describe("detectFormat", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "format-"));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("names the files that decided each format", async () => {
    await touch(path.join(root, "voc/Annotations/1.xml"), "<annotation/>");
    await touch(path.join(root, "coco/annotations/instances_val.json"), JSON.stringify({ images: [], annotations: [], categories: [] }));
    await touch(path.join(root, "yolo/data.yaml"), "names: [a]\n");
    await touch(path.join(root, "yolo2/labels/train/1.txt"), "0 0.5 0.5 0.1 0.1\n");
    await touch(path.join(root, "folder/cats/1.jpg"));
    await touch(path.join(root, "folder/dogs/1.jpg"));
    expect(await detectFormat(path.join(root, "voc"))).toEqual({ format: "voc", task: "detect", evidence: ["Annotations/ (1 .xml files)"] });
    expect(await detectFormat(path.join(root, "coco"))).toEqual({ format: "coco", task: "detect", evidence: [path.join("annotations", "instances_val.json")] });
    expect(await detectFormat(path.join(root, "yolo"))).toEqual({ format: "yolo", task: "detect", evidence: ["data.yaml"] });
    expect((await detectFormat(path.join(root, "yolo2"))).format).toBe("yolo");
    expect(await detectFormat(path.join(root, "folder"))).toEqual({ format: "imagefolder", task: "classify", evidence: ["cats/", "dogs/"] });
  });

  it("rejects unknown layouts and classification data for detection", async () => {
    await touch(path.join(root, "empty/readme.md"));
    await expect(detectFormat(path.join(root, "empty"))).rejects.toThrow(/unrecognised dataset layout/);
    await expect(readDetectDataset(path.join(root, "folder"))).rejects.toThrow(/classification dataset/);
  });
});
