import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { runDatasetImport, type ImportPayload } from "@/server/datasets/import";
import { startDatasetImport } from "@/server/datasets/service";
import { solidImage, writeTree } from "@/server/datasets/testing";
import { resetEnvCache } from "@/server/env";
import { Invalid, NotFound } from "@/server/errors";
import { defaultProject } from "@/server/projects/service";
import { createAugmentation, previewAugmentation, updateAugmentation } from "./service";

let tdb: TestDb;
let member: Ctx;
let outsider: Ctx;
let projectId: number;
let detectId: number;

beforeAll(async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), "augment-"));
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  process.env.STUDIO_IMPORT_ROOTS = work;
  resetEnvCache();
  tdb = await createTestDb();
  const team = await seedTeam(tdb.db, "Vision");
  const other = await seedTeam(tdb.db, "Other");
  member = await ctxFor(tdb.db, (await seedUser(tdb.db, { email: "m@x.io", teams: [{ teamId: team.id, role: "member" }] })).id, team.id);
  outsider = await ctxFor(tdb.db, (await seedUser(tdb.db, { email: "o@x.io", teams: [{ teamId: other.id, role: "member" }] })).id, other.id);
  projectId = (await defaultProject(member)).id;
  const src = await writeTree(path.join(work, "yolo"), {
    "classes.txt": "thing\n",
    "images/a.png": await solidImage(64, 32, [200, 100, 0]),
    "labels/a.txt": "0 0.25 0.5 0.2 0.4\n",
  });
  let queued: ImportPayload | undefined;
  detectId = (await startDatasetImport(member, { projectId, name: "boxes", source: { kind: "path", path: src } }, async (p) => (queued = p))).id;
  await runDatasetImport(tdb.db, queued!);
});
afterAll(() => tdb.close());

describe("augmentation pipelines", () => {
  it("stores a validated pipeline with defaults filled; errors name position and field", async () => {
    const row = await createAugmentation(member, { projectId, name: "flips", description: "", pipeline: [{ op: "hflip", p: 1 }, { op: "brightness" }] });
    expect(row.pipeline).toEqual([{ op: "hflip", p: 1 }, { op: "brightness", p: 0.5, amount: 0.2 }]);
    const err = await updateAugmentation(member, { id: row.id, pipeline: [{ op: "hflip", p: 1 }, { op: "blur", radius: [5, 1], extra: 1 }] }).catch((e) => e);
    expect(err).toBeInstanceOf(Invalid);
    expect(Object.keys(err.fields)).toContain("pipeline[1].extra");
    await expect(updateAugmentation(outsider, { id: row.id, name: "x" })).rejects.toBeInstanceOf(NotFound);
  });

  it("previews deterministically by seed and moves boxes with the image", async () => {
    const pipeline = [{ op: "hflip", p: 1 }, { op: "noise", p: 1, std: 0.1 }];
    const first = await previewAugmentation(member, { datasetId: detectId, pipeline, seed: 3, samples: 1, variants: 2 });
    const again = await previewAugmentation(member, { datasetId: detectId, pipeline, seed: 3, samples: 1, variants: 2 });
    const other = await previewAugmentation(member, { datasetId: detectId, pipeline, seed: 4, samples: 1, variants: 2 });
    expect(again).toEqual(first);
    expect(other.samples[0].variants[0].image).not.toBe(first.samples[0].variants[0].image);
    const sample = first.samples[0];
    expect(sample.original.image).toMatch(/^data:image\/jpeg;base64,/);
    expect(sample.original.boxes).toEqual([{ cls: 0, x: 0.25, y: 0.5, w: 0.2, h: 0.4 }]);
    const flipped = sample.variants[0].boxes[0];
    expect(flipped.x).toBeCloseTo(0.75, 6);
    expect(flipped.w).toBeCloseTo(0.2, 6);
    await expect(previewAugmentation(outsider, { datasetId: detectId, pipeline, seed: 3, samples: 1, variants: 1 })).rejects.toBeInstanceOf(NotFound);
  });
});
