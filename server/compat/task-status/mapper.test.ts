import { describe, expect, it } from "vitest";
import { NotFound, Unauthorized } from "@/server/errors";
import { experimentRow } from "@/server/compat/shared/experiment-fixture";
import { parseTaskStatusId, taskStatusError, taskStatusFinalMetrics, taskStatusReply } from "./mapper";

// Examples from seed 004, with our integer id (rendered as a string) in place of the UUID.
const TASK = "123";
const seedPending = { code: 0, message: "任务等待中", data: { task_id: TASK, status: "pending" } };
const seedProgress = { code: 0, message: "正在训练", data: { task_id: TASK, status: "progress", result: { stage: "training", current_epoch: 5, total_epochs: 20, progress: "25.0%" } } };
const seedSuccess = {
  code: 0,
  message: "训练完成",
  data: {
    task_id: TASK,
    status: "success",
    result: {
      status: "success",
      task_id: TASK,
      weights_path: "runs/train/1234567/weights/best.ckpt",
      project_path: "runs/train/1234567",
      final_metrics: { mAP50: 0.3317, "mAP50-95": 0.2322, precision: 0.9957, recall: 0.3333, f1_score: 0.4995 },
    },
  },
};
const seedFailure = { code: 1, message: "训练失败", data: { task_id: TASK, status: "failure", error: "模型文件不存在" } };

const dataDir = "/srv/studio";

describe("seed 004 task status", () => {
  it("renders a queued run as the pending example, HTTP 200", () => {
    expect(taskStatusReply(experimentRow({ status: "queued" }), null, dataDir)).toEqual({ httpStatus: 200, body: seedPending });
  });

  it("renders a running run as the progress example with progress as '25.0%'", () => {
    const reply = taskStatusReply(experimentRow({ status: "running", currentEpoch: 5, totalEpochs: 20, progress: 25 }), "training", dataDir);
    expect(reply).toEqual({ httpStatus: 200, body: seedProgress });
  });

  it("renders a completed run as the success example: relative paths and final metrics", () => {
    const experiment = experimentRow({
      status: "completed",
      runDir: "/srv/studio/runs/train/1234567",
      bestEpoch: 3,
      bestMetrics: { mAP50: 0.33171, mAP50_95: 0.23219, precision: 0.99574, recall: 0.33334, fitness: 0.24 },
    });
    expect(taskStatusReply(experiment, "completed", dataDir)).toEqual({ httpStatus: 200, body: seedSuccess });
  });

  it("renders a failed run as the failure example with code 1 and HTTP 500", () => {
    expect(taskStatusReply(experimentRow({ status: "failed", error: "模型文件不存在" }), "failed", dataDir)).toEqual({ httpStatus: 500, body: seedFailure });
  });

  it("reports a stopped run as a failure that says it was stopped", () => {
    const reply = taskStatusReply(experimentRow({ status: "stopped" }), "stopped", dataDir);
    expect(reply.httpStatus).toBe(500);
    expect(reply.body.data).toEqual({ task_id: TASK, status: "failure", error: "训练任务已停止" });
  });

  it("gives a classifier's accuracy fields and F1 as final metrics", () => {
    expect(taskStatusFinalMetrics({ top1_acc: 0.91, top5_acc: 1, macro_f1: 0.9, val_loss: 0.2 }, "classify")).toEqual({ top1_acc: 0.91, top5_acc: 1, precision: null, recall: null, f1_score: 0.9 });
  });

  it("always gives a detector all five final metrics, F1 = 2PR/(P+R) and 0 when both are 0", () => {
    expect(taskStatusFinalMetrics({ mAP50: 0, mAP50_95: 0, precision: 0, recall: 0 }, "detect")).toEqual({ mAP50: 0, "mAP50-95": 0, precision: 0, recall: 0, f1_score: 0 });
    expect(taskStatusFinalMetrics({ mAP50: 0.5, mAP50_95: 0.3, precision: 0.8, recall: 0.4 }, "detect").f1_score).toBe(0.5333);
    expect(Object.keys(taskStatusFinalMetrics({ mAP50: 0.5 }, "detect"))).toEqual(["mAP50", "mAP50-95", "precision", "recall", "f1_score"]);
  });

  it("renders errors in the same envelope, in the document's language", async () => {
    const res = taskStatusError(new Unauthorized("no key"));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 1, message: expect.stringMatching(/^未授权/), data: null });
    expect(() => parseTaskStatusId("e125f230-d11f")).toThrow(NotFound);
  });

  it("answers an unknown task as the document's failure: code 1, HTTP 500, a Chinese reason", async () => {
    const res = taskStatusError(new NotFound("Experiment 9 not found"), "9");
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 1, message: "训练失败", data: { task_id: "9", status: "failure", error: "任务不存在" } });
  });
});
