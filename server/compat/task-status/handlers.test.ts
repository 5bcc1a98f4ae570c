import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env } from "@/server/env";
import { getTaskStatus } from "@/server/compat/task-status/handlers";
import { createDialectWorld, bearer, createTestExperiment, getRequest, setExperimentState, routeContext, type DialectWorld } from "@/server/compat/shared/testing";

let w: DialectWorld;
const deps = () => ({ db: w.tdb.db, boss: w.boss });

beforeAll(async () => {
  w = await createDialectWorld();
}, 60_000);

afterAll(() => w?.close());

describe("seed 004 /task_status/<task_id>", () => {
  it("answers pending, then progress with '25.0%', then success; failure is code 1 with HTTP 500", async () => {
    const { id } = await createTestExperiment(w, "status");
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
    const { id } = await createTestExperiment(w, "status-private");
    expect((await getTaskStatus(getRequest(`/task_status/${id}`), routeContext({ task_id: String(id) }, deps()))).status).toBe(401);
    const other = await getTaskStatus(getRequest(`/task_status/${id}`, bearer(w.otherKey)), routeContext({ task_id: String(id) }, deps()));
    const missing = await getTaskStatus(getRequest("/task_status/999999", bearer(w.otherKey)), routeContext({ task_id: "999999" }, deps()));
    expect([other.status, missing.status]).toEqual([500, 500]);
    expect(await other.json()).toEqual({ code: 1, message: "训练失败", data: { task_id: String(id), status: "failure", error: "任务不存在" } });
    expect((await missing.json()).data).toEqual({ task_id: "999999", status: "failure", error: "任务不存在" });
  });
});
