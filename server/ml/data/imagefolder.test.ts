import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { readImageFolder, checkImages, DatasetError } from "./imagefolder";

let base: string;
let counter = 0;
let tinyJpeg: Buffer;

/** Creates files under a fresh dataset folder: {"train/cat/a.jpg": "jpg", "notes.txt": "text"}. */
async function makeDataset(files: Record<string, "jpg" | string>): Promise<string> {
  const root = path.join(base, `ds${counter++}`);
  await mkdir(root, { recursive: true });
  for (const [relative, kind] of Object.entries(files)) {
    const full = path.join(root, relative);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, kind === "jpg" ? tinyJpeg : kind);
  }
  return root;
}

function flat(classes: Record<string, number>): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, count] of Object.entries(classes)) {
    for (let i = 0; i < count; i++) files[`${name}/${String(i).padStart(3, "0")}.jpg`] = "jpg";
  }
  return files;
}

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), "imagefolder-test-"));
  tinyJpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#808080" } }).jpeg().toBuffer();
});
afterAll(() => rm(base, { recursive: true, force: true }));

describe("readImageFolder — split layout", () => {
  it("keeps the dataset's own train/val/test splits and sorts classes by name", async () => {
    const root = await makeDataset({
      "train/dog/1.jpg": "jpg", "train/dog/2.png": "jpg", "train/cat/1.jpg": "jpg",
      "val/cat/3.jpg": "jpg", "val/dog/4.jpg": "jpg",
      "test/cat/5.jpg": "jpg",
    });
    const index = await readImageFolder(root);
    expect(index).toMatchObject({ root, format: "imagefolder", task: "classify", classes: ["cat", "dog"], skipped: [] });
    const bySplit = (split: string) => index.items.filter((i) => i.split === split).map((i) => [path.relative(root, i.path), i.label]);
    expect(bySplit("train")).toEqual([["train/cat/1.jpg", 0], ["train/dog/1.jpg", 1], ["train/dog/2.png", 1]]);
    expect(bySplit("val")).toEqual([["val/cat/3.jpg", 0], ["val/dog/4.jpg", 1]]);
    expect(bySplit("test")).toEqual([["test/cat/5.jpg", 0]]);
  });

  it("accepts 'valid' as the val folder", async () => {
    const root = await makeDataset({ "train/a/1.jpg": "jpg", "train/b/1.jpg": "jpg", "valid/a/2.jpg": "jpg", "valid/b/2.jpg": "jpg" });
    const index = await readImageFolder(root);
    expect(index.items.filter((i) => i.split === "val")).toHaveLength(2);
  });

  it("names the classes that differ between train and val", async () => {
    const root = await makeDataset({ "train/cat/1.jpg": "jpg", "train/dog/1.jpg": "jpg", "val/cat/1.jpg": "jpg", "val/bird/1.jpg": "jpg" });
    await expect(readImageFolder(root)).rejects.toThrow("class folders differ between train and val (only in train: 'dog'; only in val: 'bird')");
  });

  it("carves val out of train when there is no val folder", async () => {
    const root = await makeDataset(Object.fromEntries(Object.entries(flat({ a: 10, b: 10 })).map(([k, v]) => [`train/${k}`, v])));
    const index = await readImageFolder(root, { seed: 1 });
    expect(index.items.filter((i) => i.split === "val")).toHaveLength(4);
    expect(index.items.filter((i) => i.split === "train")).toHaveLength(16);
  });
});

describe("readImageFolder — flat layout", () => {
  it("splits each class by the ratios (stratified) with every image used once", async () => {
    const root = await makeDataset(flat({ cat: 20, dog: 10, eel: 5 }));
    const index = await readImageFolder(root, { ratios: { train: 0.6, val: 0.2, test: 0.2 }, seed: 3 });
    const count = (label: number, split: string) => index.items.filter((i) => i.label === label && i.split === split).length;
    expect(index.classes).toEqual(["cat", "dog", "eel"]);
    expect([count(0, "train"), count(0, "val"), count(0, "test")]).toEqual([12, 4, 4]);
    expect([count(1, "train"), count(1, "val"), count(1, "test")]).toEqual([6, 2, 2]);
    expect([count(2, "train"), count(2, "val"), count(2, "test")]).toEqual([3, 1, 1]);
    expect(new Set(index.items.map((i) => i.path)).size).toBe(35);
  });

  it("uses 0.8/0.2/0 by default and keeps a train and a val image even in tiny classes", async () => {
    const root = await makeDataset(flat({ a: 10, b: 2 }));
    const index = await readImageFolder(root);
    const splits = (label: number) => index.items.filter((i) => i.label === label).map((i) => i.split).sort();
    expect(splits(0)).toEqual([...Array(8).fill("train"), "val", "val"]);
    expect(splits(1)).toEqual(["train", "val"]);
  });

  it("is reproducible for a seed and changes with the seed", async () => {
    const root = await makeDataset(flat({ a: 30, b: 30 }));
    const valOf = async (seed: number) => (await readImageFolder(root, { seed })).items.filter((i) => i.split === "val").map((i) => i.path);
    expect(await valOf(5)).toEqual(await valOf(5));
    expect(await valOf(5)).not.toEqual(await valOf(6));
  });

  it("lists non-image files as skipped, ignores hidden files and reads nested folders", async () => {
    const root = await makeDataset({
      ...flat({ a: 2, b: 2 }),
      "a/notes.txt": "hello",
      "a/.DS_Store": "junk",
      ".hidden/x.jpg": "jpg",
      "b/nested/deep.jpg": "jpg",
      "readme.md": "text",
      "B.JPEG-like.JPG": "jpg",
    });
    const index = await readImageFolder(root);
    expect(index.classes).toEqual(["a", "b"]);
    expect(index.items.map((i) => path.relative(root, i.path)).sort()).toEqual(["a/000.jpg", "a/001.jpg", "b/000.jpg", "b/001.jpg", "b/nested/deep.jpg"]);
    expect(index.skipped.map((s) => path.relative(root, s.path)).sort()).toEqual(["B.JPEG-like.JPG", "a/notes.txt", "readme.md"]);
    expect(index.skipped.find((s) => s.path.endsWith("notes.txt"))!.reason).toMatch(/not an image/);
  });
});

describe("readImageFolder — errors", () => {
  it("reports a missing folder", async () => {
    const missing = path.join(base, "nope");
    await expect(readImageFolder(missing)).rejects.toThrow(`dataset folder not found: ${missing}`);
  });

  it("reports a folder without images", async () => {
    const root = await makeDataset({ "a/notes.txt": "x", "b/readme.md": "y" });
    await expect(readImageFolder(root)).rejects.toThrow(/^no images found in /);
    const empty = await makeDataset({});
    await expect(readImageFolder(empty)).rejects.toBeInstanceOf(DatasetError);
  });

  it("reports a single class by name", async () => {
    const root = await makeDataset(flat({ cat: 3 }));
    await expect(readImageFolder(root)).rejects.toThrow("dataset needs at least 2 classes, found 1: 'cat'");
  });

  it("reports empty class folders by name", async () => {
    const root = await makeDataset({ ...flat({ a: 2, b: 2 }), "c/notes.txt": "x" });
    await expect(readImageFolder(root)).rejects.toThrow(/class folder\(s\) with no images in .*: 'c'/);
  });

  it("rejects bad ratios", async () => {
    const root = await makeDataset(flat({ a: 2, b: 2 }));
    await expect(readImageFolder(root, { ratios: { train: 0.8, val: -0.2, test: 0 } })).rejects.toThrow(/non-negative/);
  });
});

describe("checkImages", () => {
  it("separates unreadable files with the reason", async () => {
    const root = await makeDataset({ "a/good.jpg": "jpg", "a/bad.jpg": "not really a jpeg", "b/good.jpg": "jpg" });
    const index = await readImageFolder(root);
    const { ok, skipped } = await checkImages(index.items);
    expect(ok.map((i) => path.basename(i.path))).toEqual(["good.jpg", "good.jpg"]);
    expect(skipped).toEqual([{ path: path.join(root, "a/bad.jpg"), reason: "unsupported image format" }]);
  });
});
