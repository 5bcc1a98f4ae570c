import { existsSync } from "node:fs";
import { mkdtemp, readdir, realpath, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { datasetItems, datasets } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { resetEnvCache } from "@/server/env";
import { defaultProject } from "@/server/projects/service";
import { Conflict, Invalid, NotFound } from "@/server/errors";
import { resolveImportPath, runDatasetImport, type ImportPayload } from "./import";
import { deleteDataset, getDataset, importState, previewDataset, resplitDataset, startDatasetImport } from "./service";
import { datasetDir, tmpDir } from "./storage";
import { solidImage, writeTree, zipFolder } from "./testing";
import { getDatasetForTraining } from "./training";

let tdb: TestDb;
let member: Ctx;
let outsider: Ctx;
let projectId: number;
let work: string;
let importRoot: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "datasets-import-"));
  importRoot = path.join(work, "imports");
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  process.env.STUDIO_IMPORT_ROOTS = importRoot;
  resetEnvCache();
  tdb = await createTestDb();
  ({ member, outsider } = await seedMemberAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;
});
afterAll(() => tdb.close());

/** Starts an import and runs the job handler in-process, as the worker would. */
async function importFolder(name: string, folder: string, extra: Partial<ImportPayload> = {}) {
  let queued: ImportPayload | undefined;
  const row = await startDatasetImport(member, { projectId, name, source: { kind: "path", path: folder }, ...extra }, async (p) => (queued = p));
  const result = await runDatasetImport(tdb.db, queued!);
  return { id: row.id, result };
}

async function importZip(name: string, zipFile: string, limits = {}) {
  let queued: ImportPayload | undefined;
  const row = await startDatasetImport(member, { projectId, name, source: { kind: "zip", file: zipFile } }, async (p) => (queued = p));
  const result = await runDatasetImport(tdb.db, queued!, { zipLimits: limits });
  return { id: row.id, result };
}

const red = () => solidImage(32, 32, [255, 0, 0]);

describe("dataset import per format", () => {
  it("imports an ImageFolder zip (wrapped in a top folder) with exact analysis figures", async () => {
    const src = await writeTree(path.join(work, "if-src"), {
      "cat/a.png": await red(),
      "cat/b.png": await solidImage(32, 32, [0, 255, 0]),
      "cat/c.png": await solidImage(48, 32, [0, 0, 255]),
      "dog/d.png": await solidImage(64, 32, [9, 9, 9]),
      "dog/e.png": await red(),
      "dog/broken.jpg": "not an image at all",
      "notes.md": "# readme",
    });
    const zip = await zipFolder(src, path.join(tmpDir(), "if.zip"), "my-data");
    const { id, result } = await importZip("pets", zip);
    expect(result).toEqual({ status: "ready" });
    expect(existsSync(zip)).toBe(false);
    const ds = await getDataset(member, id);
    expect(ds).toMatchObject({ status: "ready", format: "imagefolder", task: "classify", classes: ["cat", "dog"], progress: 1 });
    const stats = ds.stats!;
    expect(stats.images).toBe(5);
    expect(stats.classes).toEqual([
      { name: "cat", images: 3, instances: 3 },
      { name: "dog", images: 2, instances: 2 },
    ]);
    expect(stats.width).toEqual({ min: 32, median: 32, max: 64 });
    expect(stats.height).toEqual({ min: 32, median: 32, max: 32 });
    expect(stats.aspect).toEqual({ min: 1, median: 1, max: 2 });
    expect(stats.corrupt).toEqual([{ path: "dog/broken.jpg", reason: expect.any(String) }]);
    expect(stats.duplicates).toEqual([{ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), paths: ["cat/a.png", "dog/e.png"] }]);
    expect(stats.skipped).toEqual(["my-data/notes.md"]);
    expect(stats.evidence).toEqual(["cat/", "dog/"]);
    expect(stats.perSplit.train + stats.perSplit.val + stats.perSplit.test).toBe(5);
    expect(ds.splits).toMatchObject({ source: "ratios", seed: 0, ratios: { train: 0.8, val: 0.2, test: 0 } });
    expect((await readdir(datasetDir(id))).sort()).toEqual(["cat", "dog"]);

    const training = await getDatasetForTraining(member, id);
    expect(training.index.items).toHaveLength(5);
    expect(training.index.items.every((i) => existsSync(i.path))).toBe(true);
    await expect(getDatasetForTraining(outsider, id)).rejects.toBeInstanceOf(NotFound);
  });

  it("keeps an ImageFolder's own split folders and re-splits reproducibly by ratios", async () => {
    const files: Record<string, Buffer> = {};
    for (const split of ["train", "val"]) for (const cls of ["a", "b"]) for (let i = 0; i < (split === "train" ? 4 : 1); i++) files[`${split}/${cls}/${i}.png`] = await solidImage(32, 32, [i * 40, cls === "a" ? 0 : 200, split === "val" ? 99 : 0]);
    const src = await writeTree(path.join(importRoot, "split-src"), files);
    const { id } = await importFolder("own-splits", src);
    const ds = await getDataset(member, id);
    expect(ds.splits).toEqual({ train: 8, val: 2, test: 0, source: "folders", seed: null, ratios: null });

    const ratios = { train: 0.5, val: 0.25, test: 0.25 };
    const first = await resplitDataset(member, { id, source: "ratios", ratios, seed: 7 });
    expect(first.splits).toMatchObject({ train: 6, val: 2, test: 2, source: "ratios", seed: 7 });
    const firstAssignment = await tdb.db.select({ path: datasetItems.path, split: datasetItems.split }).from(datasetItems).where(eq(datasetItems.datasetId, id)).orderBy(datasetItems.path);
    await resplitDataset(member, { id, source: "ratios", ratios, seed: 8 });
    await resplitDataset(member, { id, source: "ratios", ratios, seed: 7 });
    const again = await tdb.db.select({ path: datasetItems.path, split: datasetItems.split }).from(datasetItems).where(eq(datasetItems.datasetId, id)).orderBy(datasetItems.path);
    expect(again).toEqual(firstAssignment);
    const back = await resplitDataset(member, { id, source: "folders" });
    expect(back.splits).toEqual({ train: 8, val: 2, test: 0, source: "folders", seed: null, ratios: null });
  });

  it("imports YOLO with empty, tiny and out-of-range labels counted exactly", async () => {
    const img = () => solidImage(64, 64, [50, 60, 70]);
    const src = await writeTree(path.join(importRoot, "yolo"), {
      "classes.txt": "car\nperson\n",
      "images/1.png": await img(),
      "labels/1.txt": "0 0.5 0.5 0.5 0.5\n1 0.25 0.25 0.03 0.5\n",
      "images/2.png": await solidImage(64, 32, [1, 2, 3]),
      "labels/2.txt": "",
      "images/3.png": await solidImage(32, 64, [4, 5, 6]),
      "labels/3.txt": "0 1.5 0.5 0.2 0.2\n",
    });
    const { id } = await importFolder("yolo", src);
    const ds = await getDataset(member, id);
    expect(ds).toMatchObject({ format: "yolo", task: "detect", classes: ["car", "person"] });
    const stats = ds.stats!;
    expect(stats.images).toBe(3);
    expect(stats.classes).toEqual([
      { name: "car", images: 1, instances: 1 },
      { name: "person", images: 1, instances: 1 },
    ]);
    expect(stats.emptyImages).toBe(2);
    expect(stats.emptyRate).toBe(0.6667);
    expect(stats.tinyBoxes).toBe(1);
    expect(stats.outOfRangeBoxes).toEqual([{ path: "labels/3.txt", line: 1, reason: expect.stringContaining("outside") }]);
    expect(stats.aspect).toEqual({ min: 0.5, median: 1, max: 2 });
    expect(stats.evidence).toContain("classes.txt");

    const page = await previewDataset(member, { id, page: 1, limit: 10, classId: 1 });
    expect(page.items.map((i) => i.path)).toEqual(["images/1.png"]);
    expect(page.total).toBe(1);
    const training = await getDatasetForTraining(member, id);
    expect(training.task).toBe("detect");
    const first = training.index.items.find((i) => i.path.endsWith("images/1.png"))!;
    expect("boxes" in first && first.boxes).toEqual([
      { cls: 0, x: 0.5, y: 0.5, w: 0.5, h: 0.5 },
      { cls: 1, x: 0.25, y: 0.25, w: 0.03, h: 0.5 },
    ]);
  });

  it("imports COCO with class distribution from the annotations", async () => {
    const coco = {
      images: [
        { id: 1, file_name: "a.png", width: 64, height: 48 },
        { id: 2, file_name: "b.png", width: 64, height: 48 },
      ],
      categories: [
        { id: 1, name: "cat" },
        { id: 2, name: "dog" },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 32, 24] },
        { id: 2, image_id: 1, category_id: 2, bbox: [10, 10, 20, 20] },
        { id: 3, image_id: 2, category_id: 2, bbox: [5, 5, 30, 30] },
      ],
    };
    const src = await writeTree(path.join(importRoot, "coco"), {
      "annotations.json": JSON.stringify(coco),
      "images/a.png": await solidImage(64, 48, [1, 1, 1]),
      "images/b.png": await solidImage(64, 48, [2, 2, 2]),
    });
    const { id, result } = await importFolder("coco", src);
    expect(result.status).toBe("ready");
    const ds = await getDataset(member, id);
    expect(ds).toMatchObject({ format: "coco", task: "detect", classes: ["cat", "dog"] });
    expect(ds.stats!.classes).toEqual([
      { name: "cat", images: 1, instances: 1 },
      { name: "dog", images: 2, instances: 2 },
    ]);
    expect(ds.stats!.emptyRate).toBe(0);
    expect(ds.stats!.evidence).toEqual(["annotations.json"]);
  });

  it("imports Pascal VOC", async () => {
    const xml = (name: string, objects: string[]) =>
      `<annotation><filename>${name}.jpg</filename><size><width>64</width><height>64</height><depth>3</depth></size>${objects
        .map((o) => `<object><name>${o}</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>33</xmax><ymax>33</ymax></bndbox></object>`)
        .join("")}</annotation>`;
    const src = await writeTree(path.join(importRoot, "voc"), {
      "Annotations/x1.xml": xml("x1", ["bird", "bird"]),
      "Annotations/x2.xml": xml("x2", []),
      "JPEGImages/x1.jpg": await solidImage(64, 64, [10, 20, 30], "jpeg"),
      "JPEGImages/x2.jpg": await solidImage(64, 64, [30, 20, 10], "jpeg"),
    });
    const { id } = await importFolder("voc", src);
    const ds = await getDataset(member, id);
    expect(ds).toMatchObject({ format: "voc", task: "detect", classes: ["bird"] });
    expect(ds.stats!.classes).toEqual([{ name: "bird", images: 1, instances: 2 }]);
    expect(ds.stats!.emptyRate).toBe(0.5);
    expect(ds.stats!.evidence[0]).toMatch(/^Annotations\//);
  });

  it("an unrecognised folder fails: no dataset row, no files, the reason kept", async () => {
    const src = await writeTree(path.join(importRoot, "mixed"), { "readme.txt": "hello", "photo.png": await red() });
    const { id, result } = await importFolder("mixed", src);
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/unrecognised dataset layout/);
    expect(await tdb.db.select().from(datasets).where(eq(datasets.id, id))).toEqual([]);
    expect(existsSync(datasetDir(id))).toBe(false);
    const state = await importState(member, id);
    expect(state.failure?.error).toMatch(/unrecognised dataset layout/);
    await expect(importState(outsider, id)).rejects.toBeInstanceOf(NotFound);
  });
});

describe("server paths", () => {
  it("refuses a folder outside the allowed roots, also when reached through a symlink", async () => {
    const outside = await writeTree(path.join(work, "outside"), { "a/1.png": await red(), "b/1.png": await red() });
    await expect(startDatasetImport(member, { projectId, name: "o1", source: { kind: "path", path: outside } }, async () => {})).rejects.toThrow(/outside the allowed import roots/);
    await symlink(outside, path.join(importRoot, "sneaky"));
    await expect(startDatasetImport(member, { projectId, name: "o2", source: { kind: "path", path: path.join(importRoot, "sneaky") } }, async () => {})).rejects.toBeInstanceOf(Invalid);
    await expect(startDatasetImport(member, { projectId, name: "o3", source: { kind: "path", path: `${importRoot}/../outside` } }, async () => {})).rejects.toThrow(/outside/);
    expect(await tdb.db.select().from(datasets).where(eq(datasets.name, "o1"))).toEqual([]);
  });

  it("without import roots, the refusal says what to configure", async () => {
    await expect(resolveImportPath(importRoot, [])).rejects.toThrow(/sets STUDIO_IMPORT_ROOTS to the server folders that may be read/);
  });

  it("never reads the studio's own data folder, even when a root contains it", async () => {
    const dataDir = process.env.STUDIO_DATA_DIR!;
    await writeTree(path.join(dataDir, "datasets", "other-team"), { "a/1.png": await red(), "b/1.png": await red() });
    for (const requested of [path.join(dataDir, "datasets", "other-team"), dataDir, work]) {
      await expect(resolveImportPath(requested, [work]), requested).rejects.toThrow(/the studio's own data folder \(STUDIO_DATA_DIR\), which is never imported from/);
    }
    await expect(resolveImportPath(importRoot, [work])).resolves.toBe(await realpath(importRoot));
  });

  it("does not follow symlinks inside an allowed folder", async () => {
    const secret = await writeTree(path.join(work, "secret"), { "s.png": await red() });
    const src = await writeTree(path.join(importRoot, "with-link"), { "a/1.png": await red(), "b/1.png": await solidImage(32, 32, [0, 0, 1]) });
    await symlink(path.join(secret, "s.png"), path.join(src, "a", "2.png"));
    const { id } = await importFolder("with-link", src);
    const ds = await getDataset(member, id);
    expect(ds.stats!.images).toBe(2);
    expect(ds.stats!.skipped).toEqual(["a/2.png (symbolic link)"]);
  });
});

describe("delete", () => {
  it("removes the rows and the folder on disk", async () => {
    const src = await writeTree(path.join(importRoot, "to-delete"), { "a/1.png": await red(), "b/1.png": await solidImage(32, 32, [0, 0, 1]) });
    const { id } = await importFolder("to-delete", src);
    expect(existsSync(datasetDir(id))).toBe(true);
    await expect(deleteDataset(outsider, id)).rejects.toBeInstanceOf(NotFound);
    await deleteDataset(member, id);
    expect(existsSync(datasetDir(id))).toBe(false);
    expect(await tdb.db.select().from(datasetItems).where(eq(datasetItems.datasetId, id))).toEqual([]);
  });

  it("duplicate names are a conflict", async () => {
    const src = await writeTree(path.join(importRoot, "dup"), { "a/1.png": await red(), "b/1.png": await solidImage(32, 32, [0, 0, 1]) });
    await importFolder("dup", src);
    await expect(importFolder("dup", src)).rejects.toBeInstanceOf(Conflict);
  });

  it("deleting while importing cancels the import and leaves nothing", async () => {
    const src = await writeTree(path.join(importRoot, "cancel"), { "a/1.png": await red(), "b/1.png": await solidImage(32, 32, [0, 0, 1]) });
    let queued: ImportPayload | undefined;
    const row = await startDatasetImport(member, { projectId, name: "cancel", source: { kind: "path", path: src } }, async (p) => (queued = p));
    await deleteDataset(member, row.id);
    expect(await runDatasetImport(tdb.db, queued!)).toEqual({ status: "cancelled" });
    expect(existsSync(datasetDir(row.id))).toBe(false);
  });
});
