import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { readVoc } from "./voc";

async function jpg(file: string) {
  await mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 8, height: 8, channels: 3, background: "#808080" } }).jpeg().toFile(file);
}

const xml = (file: string, objects: string) =>
  `<annotation><filename>${file}</filename><size><width>100</width><height>50</height><depth>3</depth></size>${objects}</annotation>`;
const obj = (name: string, box: number[], difficult = 0) =>
  `<object><name>${name}</name><difficult>${difficult}</difficult><bndbox><xmin>${box[0]}</xmin><ymin>${box[1]}</ymin><xmax>${box[2]}</xmax><ymax>${box[3]}</ymax></bndbox></object>`;

describe("readVoc", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "voc-"));
    await mkdir(path.join(root, "Annotations"));
    await mkdir(path.join(root, "ImageSets/Main"), { recursive: true });
    await writeFile(path.join(root, "Annotations/000001.xml"), xml("000001.jpg", obj("dog", [21, 11, 61, 31]) + obj("cat", [1, 1, 11, 11], 1)));
    await writeFile(path.join(root, "Annotations/000002.xml"), xml("000002.jpg", obj("cat", [1, 1, 500, 10])));
    await writeFile(path.join(root, "Annotations/000003.xml"), "<annotation><filename>");
    await writeFile(path.join(root, "Annotations/000004.xml"), xml("000004.jpg", ""));
    for (const id of ["000001", "000002", "000003", "000004"]) await jpg(path.join(root, `JPEGImages/${id}.jpg`));
    await writeFile(path.join(root, "ImageSets/Main/train.txt"), "000001\n000002\n");
    await writeFile(path.join(root, "ImageSets/Main/val.txt"), "000003\n");
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("reads boxes from 1-based pixel corners, flags difficult objects and uses ImageSets splits", async () => {
    const index = await readVoc(root);
    expect(index.classes).toEqual(["cat", "dog"]);
    const first = index.items.find((i) => i.path.endsWith("000001.jpg"))!;
    expect(first.split).toBe("train");
    expect(first.boxes[0]).toEqual({ cls: 1, x: 0.4, y: 0.4, w: 0.4, h: 0.4 });
    expect(first.boxes[1]).toMatchObject({ cls: 0, difficult: true });
    // 000002's box runs past the image: reported, the image stays as background
    expect(index.items.find((i) => i.path.endsWith("000002.jpg"))!.boxes).toEqual([]);
    expect(index.problems.map((p) => [path.basename(p.path), p.reason])).toEqual([
      ["000002.xml", expect.stringMatching(/object 1 \('cat'\): .*outside/)],
      ["000003.xml", expect.stringMatching(/malformed XML/)],
    ]);
    expect(index.skipped.map((s) => path.basename(s.path))).toEqual(["000004.jpg"]);
  });
});
