import { mkdir, mkdtemp, realpath, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasets, experiments } from "@/db/schema";
import { resetEnvCache } from "@/server/env";
import { getTraining, startTraining } from "@/server/compat/training-metrics/handlers";
import { createDialectWorld, bearer, createTestExperiment, getRequest, jsonRequest, setExperimentState, routeContext, type DialectWorld } from "@/server/compat/shared/testing";

let w: DialectWorld;
let importRoot: string;
const deps = () => ({ db: w.tdb.db, boss: w.boss });

beforeAll(async () => {
  importRoot = await mkdtemp(path.join(os.tmpdir(), "dialects-import-"));
  process.env.STUDIO_IMPORT_ROOTS = importRoot;
  resetEnvCache();
  w = await createDialectWorld();
}, 60_000);

afterAll(async () => {
  delete process.env.STUDIO_IMPORT_ROOTS;
  resetEnvCache();
  await w?.close();
});

describe("seed 001 /api/v2/training", () => {
  async function imageFolder(root: string) {
    for (const split of ["train", "val"]) {
      for (const cls of ["cat", "dog"]) {
        await mkdir(path.join(root, split, cls), { recursive: true });
        await writeFile(path.join(root, split, cls, "a.png"), "not decoded by this test");
      }
    }
  }

  it("imports train_path/val_path as a dataset and queues the run; the status has the documented fields", async () => {
    const root = path.join(importRoot, "pets");
    await imageFolder(root);
    const res = await startTraining(
      jsonRequest("POST", "/api/v2/training/start", { model: "reference-cnn", num_classes: 2, train_path: path.join(root, "train"), val_path: path.join(root, "val"), save_path: importRoot, num_epochs: 10, device: "auto" }, bearer(w.key)),
      deps(),
    );
    expect(res.status).toBe(200);
    const task = await res.json();
    expect(task).toEqual({
      task_id: expect.stringMatching(/^\d+$/),
      task_type: "training",
      status: "pending",
      progress: 0,
      device: "auto",
      current_epoch: 0,
      total_epochs: 10,
      latest_metrics: {},
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const [row] = await w.tdb.db.select().from(experiments).where(eq(experiments.id, Number(task.task_id)));
    expect(row.saveDir).toBe(await realpath(importRoot));
    const [dataset] = await w.tdb.db.select().from(datasets).where(eq(datasets.id, row.datasetId!));
    expect(dataset.status).toBe("importing");
    expect(dataset.description).toContain(await realpath(root));

    await setExperimentState(w.tdb, row.id, { status: "running", currentEpoch: 3, progress: 30, latestMetrics: { train_loss: 0.5234, train_acc: 0.8245 } });
    const status = await (await getTraining(getRequest(`/api/v2/training/${task.task_id}`, bearer(w.key)), routeContext({ task_id: task.task_id }, deps()))).json();
    expect(status).toMatchObject({ status: "running", current_epoch: 3, total_epochs: 10, latest_metrics: { epoch: 3, total_epochs: 10, train_loss: 0.5234, train_acc: 82.45 } });
  });

  it("refuses folders outside the import roots, a num_classes that does not match, and unrelated train/val folders", async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), "outside-"));
    await imageFolder(outside);
    const call = (body: Record<string, unknown>) => startTraining(jsonRequest("POST", "/api/v2/training/start", { model: "reference-cnn", ...body }, bearer(w.key)), deps());
    const escaped = await call({ train_path: path.join(outside, "train") });
    expect(escaped.status).toBe(400);
    expect((await escaped.json()).detail).toMatch(/outside the allowed import roots/);

    const root = path.join(importRoot, "pets2");
    await imageFolder(root);
    const wrongCount = await call({ train_path: path.join(root, "train"), num_classes: 37 });
    expect((await wrongCount.json()).detail).toMatch(/num_classes is 37 but .* has 2 class folders/);

    const unrelated = await call({ train_path: path.join(root, "train"), val_path: path.join(importRoot, "pets", "val") });
    expect(unrelated.status).toBe(400);
    expect((await unrelated.json()).detail).toMatch(/train and val folders of one dataset folder/);

    const saveOutside = await call({ train_path: path.join(root, "train"), save_path: outside });
    expect(saveOutside.status).toBe(400);
  });

  it("answers 401 without credentials and 404 for another team's task", async () => {
    const { id } = await createTestExperiment(w, "v2-private");
    expect((await getTraining(getRequest(`/api/v2/training/${id}`), routeContext({ task_id: String(id) }, deps()))).status).toBe(401);
    expect((await getTraining(getRequest(`/api/v2/training/${id}`, bearer(w.otherKey)), routeContext({ task_id: String(id) }, deps()))).status).toBe(404);
  });
});
