import { mkdir, mkdtemp, realpath, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasets, experimentMetrics, experiments } from "@/db/schema";
import { env, resetEnvCache } from "@/server/env";
import { createExperiment } from "@/server/experiments/lifecycle";
import { getJob, listJobs, startJob, stopJob } from "@/server/compat/recognition/jobs";
import {
  controlV1Experiment,
  createV1Experiment,
  deleteV1Experiment,
  getV1ExperimentMetrics,
  listV1Experiments,
  renameV1Experiment,
} from "@/server/compat/studio-v1/experiments";
import { getTaskStatus } from "@/server/compat/task-status/handlers";
import { bearer, createDialectWorld, getRequest, jsonRequest, setExperimentState, type DialectWorld, routeContext } from "./testing";
import { getTraining, startTraining } from "@/server/compat/training-metrics/handlers";

let w: DialectWorld;
let importRoot: string;
const deps = () => ({ db: w.tdb.db, boss: w.boss });

async function experimentIn(name: string) {
  return createExperiment(w.ctx, { projectId: w.defaultProjectId, name, datasetId: w.datasetId, model: "reference-cnn", hyperparameters: { epochs: 20 } }, { boss: w.boss });
}

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

describe("seed 004 /task_status/<task_id>", () => {
  it("answers pending, then progress with '25.0%', then success; failure is code 1 with HTTP 500", async () => {
    const { id } = await experimentIn("status");
    const ask = async () => getTaskStatus(getRequest(`/task_status/${id}`, bearer(w.key)), routeContext({ task_id: String(id) }, deps()));
    const created = await ask();
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ code: 0, message: "任务等待中", data: { task_id: String(id), status: "pending" } });

    await setExperimentState(w.tdb, id, { status: "running", currentEpoch: 5, totalEpochs: 20, progress: 25 });
    expect(await (await ask()).json()).toEqual({
      code: 0,
      message: "正在训练",
      data: { task_id: String(id), status: "progress", result: { stage: "training", current_epoch: 5, total_epochs: 20, progress: "25.0%" } },
    });

    const runDir = path.join(env().dataDir, "runs", "default", "status");
    await setExperimentState(w.tdb, id, { status: "completed", progress: 100, runDir, bestEpoch: 20, bestMetrics: { top1_acc: 0.9, macro_f1: 0.85 } });
    expect(await (await ask()).json()).toEqual({
      code: 0,
      message: "训练完成",
      data: {
        task_id: String(id),
        status: "success",
        result: { status: "success", task_id: String(id), weights_path: "runs/default/status/weights/best.ckpt", project_path: "runs/default/status", final_metrics: { top1_acc: 0.9, top5_acc: null, precision: null, recall: null, f1_score: 0.85 } },
      },
    });

    await setExperimentState(w.tdb, id, { status: "failed", error: "dataset folder is empty" });
    const failed = await ask();
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ code: 1, message: "训练失败", data: { task_id: String(id), status: "failure", error: "dataset folder is empty" } });
  });

  it("answers 401 without a key; another team's task is unknown: the document's failure, as for a missing one", async () => {
    const { id } = await experimentIn("status-private");
    expect((await getTaskStatus(getRequest(`/task_status/${id}`), routeContext({ task_id: String(id) }, deps()))).status).toBe(401);
    const other = await getTaskStatus(getRequest(`/task_status/${id}`, bearer(w.otherKey)), routeContext({ task_id: String(id) }, deps()));
    const missing = await getTaskStatus(getRequest("/task_status/999999", bearer(w.otherKey)), routeContext({ task_id: "999999" }, deps()));
    expect([other.status, missing.status]).toEqual([500, 500]);
    expect(await other.json()).toEqual({ code: 1, message: "训练失败", data: { task_id: String(id), status: "failure", error: "任务不存在" } });
    expect((await missing.json()).data).toEqual({ task_id: "999999", status: "failure", error: "任务不存在" });
  });
});

describe("seed 002 /api/v1/experiments", () => {
  it("creates (201, queued at once), lists by status, renames (204), controls and deletes (204)", async () => {
    const created = await createV1Experiment(
      jsonRequest("POST", "/api/v1/experiments", { name: "v1", task: "classify", dataset_id: w.datasetId, model_arch_id: "reference-cnn", hyperparams: { epochs: 3, batch_size: 4 } }, bearer(w.key)),
      deps(),
    );
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body).toMatchObject({ name: "v1", task: "classify", status: "queued", dataset_id: w.datasetId, model_arch_id: null, model: "reference-cnn", total_epochs: 3 });
    expect(body.hyperparams).toMatchObject({ epochs: 3, batch: 4 });
    const id = body.id as number;

    const queued = await (await listV1Experiments(getRequest("/api/v1/experiments?status=queued", bearer(w.key)), deps())).json();
    expect(queued.map((e: { id: number }) => e.id)).toContain(id);
    const running = await (await listV1Experiments(getRequest("/api/v1/experiments?status=running", bearer(w.key)), deps())).json();
    expect(running.map((e: { id: number }) => e.id)).not.toContain(id);
    expect((await listV1Experiments(getRequest("/api/v1/experiments?status=done", bearer(w.key)), deps())).status).toBe(400);

    const renamed = await renameV1Experiment(jsonRequest("PUT", `/api/v1/experiments/${id}`, { name: "New Name" }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(renamed.status).toBe(204);
    expect((await w.tdb.db.select().from(experiments).where(eq(experiments.id, id)))[0].name).toBe("New Name");
    // The studio's limit, as its own rename and every other face apply it.
    const tooLong = await renameV1Experiment(jsonRequest("PUT", `/api/v1/experiments/${id}`, { name: "n".repeat(121) }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(tooLong.status).toBe(400);
    expect((await tooLong.json()).errors).toEqual({ name: ["at most 120 characters"] });
    expect((await w.tdb.db.select().from(experiments).where(eq(experiments.id, id)))[0].name).toBe("New Name");

    await setExperimentState(w.tdb, id, { status: "running" });
    const refused = await deleteV1Experiment(new Request(`http://studio.test/api/v1/experiments/${id}`, { method: "DELETE", headers: bearer(w.key) }), routeContext({ id: String(id) }, deps()));
    expect(refused.status).toBe(422);

    const paused = await controlV1Experiment(jsonRequest("POST", `/api/v1/experiments/${id}/control`, { action: "pause" }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect((await paused.json()).status).toBe("pausing");
    // Paused after 2 of 3 epochs: resuming for 5 in all shows 2/5 = 40%, the share the run reports next.
    await setExperimentState(w.tdb, id, { status: "paused", currentEpoch: 2, totalEpochs: 3, progress: 66.7 });
    const resumed = await controlV1Experiment(jsonRequest("POST", `/api/v1/experiments/${id}/control`, { action: "resume", epochs: 5 }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(await resumed.json()).toMatchObject({ status: "queued", total_epochs: 5 });
    expect((await w.tdb.db.select().from(experiments).where(eq(experiments.id, id)))[0].progress).toBeCloseTo(40, 5);
    const stopped = await controlV1Experiment(jsonRequest("POST", `/api/v1/experiments/${id}/control`, { action: "stop" }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect((await stopped.json()).status).toBe("stopped");
    const bad = await controlV1Experiment(jsonRequest("POST", `/api/v1/experiments/${id}/control`, { action: "restart" }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(bad.status).toBe(400);

    const deleted = await deleteV1Experiment(new Request(`http://studio.test/api/v1/experiments/${id}`, { method: "DELETE", headers: bearer(w.key) }), routeContext({ id: String(id) }, deps()));
    expect(deleted.status).toBe(204);
  });

  it("returns the metric history as chart points and hides other teams' experiments", async () => {
    const { id } = await experimentIn("v1-metrics");
    await w.tdb.db.insert(experimentMetrics).values([
      { experimentId: id, epoch: 1, step: 0, values: { train_loss: 0.9, val_loss: 1.1, top1_acc: 0.5 } },
      { experimentId: id, epoch: 1, step: 5, values: { train_loss: 0.95 } },
      { experimentId: id, epoch: 2, step: 0, values: { train_loss: 0.6, val_loss: 0.7, top1_acc: 0.75 } },
    ]);
    const res = await getV1ExperimentMetrics(getRequest(`/api/v1/experiments/${id}/metrics`, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(await res.json()).toEqual([
      { epoch: 1, train_loss: 0.9, val_loss: 1.1, val_metric: 0.5 },
      { epoch: 2, train_loss: 0.6, val_loss: 0.7, val_metric: 0.75 },
    ]);
    const other = await getV1ExperimentMetrics(getRequest(`/api/v1/experiments/${id}/metrics`, bearer(w.otherKey)), routeContext({ id: String(id) }, deps()));
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ detail: `Experiment ${id} not found` });
    expect((await listV1Experiments(getRequest("/api/v1/experiments"), deps())).status).toBe(401);
  });

  it("answers 422 for a duplicate name", async () => {
    await experimentIn("taken");
    const res = await createV1Experiment(jsonRequest("POST", "/api/v1/experiments", { name: "taken", dataset_id: w.datasetId, model_arch_id: "reference-cnn" }, bearer(w.key)), deps());
    expect(res.status).toBe(422);
  });
});

describe("seed 003 /train", () => {
  it("starts a job on the default project's dataset, reports it, lists it and stops it", async () => {
    const started = await startJob(jsonRequest("POST", "/train", { model_id: "reference-cnn", epochs: 4 }, bearer(w.key)), deps());
    expect(started.status).toBe(200);
    const job = await started.json();
    expect(job).toMatchObject({ job_id: expect.stringMatching(/^\d+$/), model_id: "reference-cnn", status: "pending", progress: 0, message: "训练任务已启动" });
    expect(job.metrics).toEqual({ current_epoch: 0, total_epochs: 4, last_updated: expect.any(String) });

    const fetched = await (await getJob(getRequest(`/train/${job.job_id}`, bearer(w.key)), routeContext({ job_id: job.job_id }, deps()))).json();
    expect(fetched.job_id).toBe(job.job_id);
    const list = await (await listJobs(getRequest("/train", bearer(w.key)), deps())).json();
    expect(list.map((j: { job_id: string }) => j.job_id)).toContain(job.job_id);

    const stopped = await stopJob(new Request(`http://studio.test/train/${job.job_id}`, { method: "DELETE", headers: bearer(w.key) }), routeContext({ job_id: job.job_id }, deps()));
    expect(await stopped.json()).toMatchObject({ job_id: job.job_id, status: "stopped", message: "训练任务已停止" });
    const other = await getJob(getRequest(`/train/${job.job_id}`, bearer(w.otherKey)), routeContext({ job_id: job.job_id }, deps()));
    expect(other.status).toBe(404);
  });

  it("refuses an unknown model with 400 naming the zoo's models", async () => {
    const res = await startJob(jsonRequest("POST", "/train", { model_id: "mobilenet_v9" }, bearer(w.key)), deps());
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/mobilenet_v9.*available/);
  });
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
    const { id } = await experimentIn("v2-private");
    expect((await getTraining(getRequest(`/api/v2/training/${id}`), routeContext({ task_id: String(id) }, deps()))).status).toBe(401);
    expect((await getTraining(getRequest(`/api/v2/training/${id}`, bearer(w.otherKey)), routeContext({ task_id: String(id) }, deps()))).status).toBe(404);
  });
});
