import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { readCoco } from "./coco";

async function png(file: string) {
  await mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 8, height: 8, channels: 3, background: "#808080" } }).png().toFile(file);
}

describe("readCoco", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "coco-"));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("normalises pixel boxes, skips crowd annotations and reports bad ones", async () => {
    const dir = path.join(root, "a");
    await mkdir(path.join(dir, "annotations"), { recursive: true });
    const categories = [{ id: 3, name: "car" }, { id: 7, name: "person" }];
    await writeFile(
      path.join(dir, "annotations/instances_train2017.json"),
      JSON.stringify({
        images: [{ id: 1, file_name: "a.png", width: 200, height: 100 }, { id: 2, file_name: "b.png", width: 100, height: 100 }, { id: 3, file_name: "missing.png", width: 10, height: 10 }],
        annotations: [
          { id: 10, image_id: 1, category_id: 7, bbox: [50, 25, 100, 50], iscrowd: 0 },
          { id: 11, image_id: 1, category_id: 3, bbox: [0, 0, 10, 10], iscrowd: 1 },
          { id: 12, image_id: 1, category_id: 9, bbox: [0, 0, 10, 10] },
          { id: 13, image_id: 2, category_id: 3, bbox: [90, 0, 30, 10] },
          { id: 14, image_id: 2, category_id: 3, bbox: [10, 10, 0, 10] },
        ],
        categories,
      }),
    );
    await writeFile(
      path.join(dir, "annotations/instances_val2017.json"),
      JSON.stringify({ images: [{ id: 1, file_name: "c.png", width: 10, height: 10 }], annotations: [], categories }),
    );
    await png(path.join(dir, "train2017/a.png"));
    await png(path.join(dir, "train2017/b.png"));
    await png(path.join(dir, "val2017/c.png"));
    const index = await readCoco(dir);
    expect(index.classes).toEqual(["car", "person"]);
    const byName = Object.fromEntries(index.items.map((i) => [path.basename(i.path), i]));
    expect(byName["a.png"]).toMatchObject({ split: "train", width: 200, height: 100, boxes: [{ cls: 1, x: 0.5, y: 0.5, w: 0.5, h: 0.5 }] });
    expect(byName["b.png"].boxes).toEqual([]);
    expect(byName["c.png"].split).toBe("val");
    expect(index.problems.map((p) => p.reason)).toEqual([
      expect.stringMatching(/annotation 12: unknown category_id 9/),
      expect.stringMatching(/annotation 13: .*outside/),
      expect.stringMatching(/annotation 14: zero-area/),
    ]);
    expect(index.skipped).toEqual([{ path: expect.stringMatching(/missing.png$/), reason: expect.stringMatching(/not found/) }]);
  });

  it("reads Roboflow exports (split folders, _annotations.coco.json, dummy supercategory)", async () => {
    const dir = path.join(root, "b");
    for (const split of ["train", "valid"]) {
      await mkdir(path.join(dir, split), { recursive: true });
      await png(path.join(dir, split, "x.png"));
      await writeFile(
        path.join(dir, split, "_annotations.coco.json"),
        JSON.stringify({
          images: [{ id: 0, file_name: "x.png", width: 8, height: 8 }],
          annotations: [{ id: 0, image_id: 0, category_id: 1, bbox: [0, 0, 4, 4], iscrowd: 0 }],
          categories: [{ id: 0, name: "shapes", supercategory: "none" }, { id: 1, name: "circle", supercategory: "shapes" }, { id: 2, name: "square", supercategory: "shapes" }],
        }),
      );
    }
    const index = await readCoco(dir);
    expect(index.classes).toEqual(["circle", "square"]);
    expect(index.items.map((i) => i.split).sort()).toEqual(["train", "val"]);
    expect(index.items[0].boxes).toEqual([{ cls: 0, x: 0.25, y: 0.25, w: 0.5, h: 0.5 }]);
  });
});
