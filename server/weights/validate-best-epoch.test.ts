import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasetItems, datasets, experiments } from "@/db/schema";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { confusionMatrix, listPredictions } from "@/server/analysis/predictions";
import type { Ctx } from "@/server/context";
import { solidImage } from "@/server/datasets/testing";
import { datasetDir } from "@/server/datasets/storage";
import { resetEnvCache } from "@/server/env";
import { startBoss, stopBoss } from "@/server/jobs/boss";
import { jobRegistry } from "@/server/jobs/index";
import { workJobs } from "@/server/jobs/registry";
import { defaultProject } from "@/server/projects/service";
import { writeTinyCheckpoint } from "./testing";
import { waitForValidation } from "./validate";
import { validateBestEpoch } from "./validate-best-epoch";
import { experimentCheckpoint } from "./validation-inputs";

let tdb: TestDb;
let work: string;
let boss: PgBoss;
let member: Ctx;
let projectId: number;
let datasetId: number;

async function endedRun(name: string, status: "completed" | "paused" | "stopped"): Promise<number> {
  const runDir = path.join(work, "runs", name);
  await writeTinyCheckpoint(experimentCheckpoint(runDir), { epoch: 1, bestEpoch: 1, metrics: { top1_acc: 0.5 } });
  const [row] = await tdb.db
    .insert(experiments)
    .values({ projectId, name, task: "classify", datasetId, model: "tiny", hyperparameters: {}, status, bestEpoch: 1, runDir, deviceRequested: "cpu", createdBy: member.caller.userId })
    .returning();
  return row.id;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "best-epoch-"));
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  resetEnvCache();
  tdb = await createTestDb();
  ({ member } = await seedMemberAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;
  const [dataset] = await tdb.db.insert(datasets).values({ projectId, name: "pets", task: "classify", status: "ready", classes: ["cat", "dog"], progress: 1 }).returning();
  datasetId = dataset.id;
  const images = [
    { path: "val/cat/1.png", label: 0, rgb: [200, 40, 40] as [number, number, number] },
    { path: "val/cat/2.png", label: 0, rgb: [190, 50, 30] as [number, number, number] },
    { path: "val/dog/1.png", label: 1, rgb: [40, 40, 200] as [number, number, number] },
    { path: "train/dog/2.png", label: 1, rgb: [30, 60, 190] as [number, number, number] },
  ];
  for (const image of images) {
    const file = path.join(datasetDir(datasetId), image.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, await solidImage(16, 16, image.rgb));
  }
  await tdb.db.insert(datasetItems).values(images.map((i) => ({ datasetId, path: i.path, split: i.path.startsWith("val") ? ("val" as const) : ("train" as const), bytes: 1, sha256: i.path, width: 16, height: 16, label: i.label })));
  boss = await startBoss(tdb.url, jobRegistry);
  await workJobs(boss, jobRegistry, { db: tdb.db, slots: 1, pollingIntervalSeconds: 0.5 });
}, 120_000);

afterAll(async () => {
  if (boss) await stopBoss(boss, 2000);
  await tdb?.close();
  await rm(work, { recursive: true, force: true });
});

describe("validateBestEpoch", () => {
  it("validates an ended run's best checkpoint on its val split, leaving per-image results", async () => {
    const id = await endedRun("done", "completed");
    const queued = await validateBestEpoch(tdb.db, id, { boss });
    expect(queued).toMatchObject({ experimentId: id, split: "val", purpose: "validation", task: "classify" });
    const finished = await waitForValidation(member, queued!.id, 90_000);
    expect(finished).toMatchObject({ status: "completed", images: 3, outcomesRecorded: true });
    const page = await listPredictions(member, { validationId: finished.id });
    expect(page.items.map((i) => [i.path, i.label, i.top.length])).toEqual([
      ["val/cat/1.png", 0, 2],
      ["val/cat/2.png", 0, 2],
      ["val/dog/1.png", 1, 2],
    ]);
    const { matrix } = await confusionMatrix(member, finished.id);
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(3);
  }, 120_000);

  it("validates a run stopped early, and leaves a paused one alone", async () => {
    expect(await validateBestEpoch(tdb.db, await endedRun("stopped", "stopped"), { boss })).not.toBeNull();
    expect(await validateBestEpoch(tdb.db, await endedRun("paused", "paused"), { boss })).toBeNull();
  });
});
