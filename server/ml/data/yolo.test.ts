import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { labelPathFor, parseYoloLabels, readYolo } from "./yolo";
import type { LabelProblem } from "./detect-index";

async function png(file: string) {
  await mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 8, height: 8, channels: 3, background: "#808080" } }).png().toFile(file);
}
async function text(file: string, body: string) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, body);
}

describe("parseYoloLabels", () => {
  it("keeps good lines and reports each bad one with its line number", () => {
    const problems: LabelProblem[] = [];
    const boxes = parseYoloLabels(
      ["0 0.5 0.5 0.2 0.2", "", "1 1.2 0.5 0.1 0.1", "3 0.5 0.5 0.1 0.1", "0 0.5 0.5", "0 a 0.5 0.1 0.1", "1 0.5 0.5 0 0.1", "0 0.5 0.5 0.2 0.2", "1 0.1 0.1 0.3 0.1 0.3 0.5"].join("\n"),
      2,
      "l.txt",
      problems,
    );
    expect(boxes).toHaveLength(2);
    expect(boxes[0]).toEqual({ cls: 0, x: 0.5, y: 0.5, w: 0.2, h: 0.2 });
    // polygon line -> its bounding box
    expect(boxes[1].cls).toBe(1);
    expect(boxes[1].x).toBeCloseTo(0.2);
    expect(boxes[1].y).toBeCloseTo(0.3);
    expect(boxes[1].w).toBeCloseTo(0.2);
    expect(boxes[1].h).toBeCloseTo(0.4);
    expect(problems.map((p) => [p.line, p.reason])).toEqual([
      [3, expect.stringMatching(/x = 1.2 is outside/)],
      [4, expect.stringMatching(/class id 3 is not below the number of classes \(2\)/)],
      [5, expect.stringMatching(/malformed/)],
      [6, expect.stringMatching(/not all numbers/)],
      [7, expect.stringMatching(/zero-area/)],
      [8, expect.stringMatching(/duplicate/)],
    ]);
  });

  it("maps image paths to label paths like Ultralytics", () => {
    expect(labelPathFor(path.join("/d", "images", "train", "a.b.jpg"))).toBe(path.join("/d", "labels", "train", "a.b.txt"));
  });
});

describe("readYolo", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "yolo-"));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("reads data.yaml with a names dict and images/{train,val} splits; a missing label file is background", async () => {
    const dir = path.join(root, "a");
    await text(path.join(dir, "data.yaml"), "path: .\ntrain: images/train\nval: images/val\nnames:\n  0: cat\n  1: dog\n");
    await png(path.join(dir, "images/train/1.png"));
    await png(path.join(dir, "images/train/2.png"));
    await png(path.join(dir, "images/val/3.png"));
    await text(path.join(dir, "labels/train/1.txt"), "0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n");
    await text(path.join(dir, "labels/val/3.txt"), "1 0.5 0.5 0.4 0.4\n5 0.5 0.5 0.4 0.4\n");
    const index = await readYolo(dir);
    expect(index.classes).toEqual(["cat", "dog"]);
    expect(index.items.map((i) => [path.basename(i.path), i.split, i.boxes.length])).toEqual([
      ["1.png", "train", 2],
      ["2.png", "train", 0],
      ["3.png", "val", 1],
    ]);
    expect(index.problems).toEqual([{ path: path.join(dir, "labels/val/3.txt"), line: 2, reason: expect.stringMatching(/class id 5/) }]);
  });

  it("resolves Roboflow-style '../train/images' entries and names lists", async () => {
    const dir = path.join(root, "b");
    await text(path.join(dir, "data.yaml"), "train: ../train/images\nval: ../valid/images\nnames: ['a', 'b', 'c']\n");
    await png(path.join(dir, "train/images/x.png"));
    await png(path.join(dir, "valid/images/y.png"));
    await text(path.join(dir, "train/labels/x.txt"), "2 0.5 0.5 0.2 0.2\n");
    const index = await readYolo(dir);
    expect(index.classes).toEqual(["a", "b", "c"]);
    expect(index.items.map((i) => [path.basename(i.path), i.split, i.boxes[0]?.cls])).toEqual([
      ["x.png", "train", 2],
      ["y.png", "val", undefined],
    ]);
  });

  it("splits a flat folder with classes.txt by seeded ratios", async () => {
    const dir = path.join(root, "c");
    await text(path.join(dir, "classes.txt"), "red\nblue\n");
    for (let i = 0; i < 10; i++) {
      await png(path.join(dir, `img${i}.png`));
      await text(path.join(dir, `img${i}.txt`), `${i % 2} 0.5 0.5 0.2 0.2\n`);
    }
    const a = await readYolo(dir, { seed: 3 });
    const b = await readYolo(dir, { seed: 3 });
    expect(a.items.filter((i) => i.split === "val")).toHaveLength(2);
    expect(a.items.map((i) => i.split)).toEqual(b.items.map((i) => i.split));
    expect(a.items.every((i) => i.boxes.length === 1)).toBe(true);
  });

  it("accepts the data.yaml file itself (Ultralytics' data=…yaml), with any file name", async () => {
    const dir = path.join(root, "e");
    await text(path.join(dir, "shapes-v2.yaml"), "train: images/train\nval: images/val\nnames: [square]\n");
    await png(path.join(dir, "images/train/1.png"));
    await png(path.join(dir, "images/val/2.png"));
    await text(path.join(dir, "labels/train/1.txt"), "0 0.5 0.5 0.2 0.2\n");
    const index = await readYolo(path.join(dir, "shapes-v2.yaml"));
    expect(index.root).toBe(dir);
    expect(index.classes).toEqual(["square"]);
    expect(index.items.map((i) => [path.basename(i.path), i.split, i.boxes.length])).toEqual([
      ["1.png", "train", 1],
      ["2.png", "val", 0],
    ]);
    await expect(readYolo(path.join(dir, "missing.yaml"))).rejects.toThrow(/dataset file not found: .*missing\.yaml/);
  });

  it("fails clearly without class names", async () => {
    const dir = path.join(root, "d");
    await png(path.join(dir, "images/1.png"));
    await expect(readYolo(dir)).rejects.toThrow(/data.yaml .* or classes.txt/);
  });
});
