import { describe, expect, it } from "vitest";
import { Invalid, NotFound } from "@/server/errors";
import { experimentRow, logRow } from "@/server/compat/shared/experiment-fixture";
import {
  parseTrainingMetricsStart,
  parseTrainingMetricsTaskId,
  sseFrame,
  sseResumeAfter,
  trainingMetricsLogEntry,
  trainingMetricsTask,
  trainingMetricsValues,
} from "./mapper";

// Examples from seed 001 (training metrics update log).
const seedTask = {
  task_id: "abc-123-def-456",
  task_type: "training",
  status: "running",
  progress: 30,
  device: "cuda:0",
  current_epoch: 3,
  total_epochs: 10,
  latest_metrics: {
    epoch: 3,
    total_epochs: 10,
    train_loss: 0.5234,
    train_acc: 82.45,
    val_loss: 0.6123,
    val_acc: 78.92,
    macro_f1: 0.7654,
    micro_f1: 0.7892,
    mAP: 0.8123,
    top1_acc: 78.92,
    top3_acc: 92.34,
    top5_acc: 96.78,
    best_acc: 79.12,
    learning_rate: 0.0001,
  },
  created_at: "2025-10-29T10:00:00",
  updated_at: "2025-10-29T10:15:00",
};
const seedLogEntry = {
  timestamp: "2025-10-29T10:16:45",
  level: "INFO",
  message: "Train Loss: 0.5234, Train Accuracy: 82.45%",
  metrics: { epoch: 3, total_epochs: 10, train_loss: 0.5234, train_acc: 82.45 },
  stage: "training",
};

describe("seed 001 training metrics: task status", () => {
  it("renders the document's example field by field from the engine's metric names and scales", () => {
    const experiment = experimentRow({
      id: 42,
      status: "running",
      progress: 30,
      deviceRequested: "cuda:0",
      currentEpoch: 3,
      totalEpochs: 10,
      // The engine reports fractions; the service reported accuracies in percent.
      latestMetrics: {
        train_loss: 0.52341,
        train_acc: 0.8245,
        val_loss: 0.61229,
        val_acc: 0.7892,
        macro_f1: 0.7654,
        micro_f1: 0.7892,
        mAP50_95: 0.8123,
        top1_acc: 0.7892,
        top3_acc: 0.9234,
        top5_acc: 0.9678,
        best_acc: 0.7912,
        learning_rate: 0.0001,
        epoch_seconds: 12.5,
      },
      createdAt: new Date("2025-10-29T10:00:00Z"),
      updatedAt: new Date("2025-10-29T10:15:00Z"),
    });
    expect(trainingMetricsTask(experiment)).toEqual({ ...seedTask, task_id: "42" });
  });

  it("gives an empty latest_metrics before the first epoch and the cause of a failure", () => {
    const body = trainingMetricsTask(experimentRow({ status: "failed", error: "out of memory", latestMetrics: {} }));
    expect(body.latest_metrics).toEqual({});
    expect(body.status).toBe("failed");
    expect(body.error).toBe("out of memory");
  });

  it("reports a detector's summed losses and mAP50-95 as mAP", () => {
    expect(trainingMetricsValues({ train_box_loss: 1, train_cls_loss: 2, val_box_loss: 0.5, val_cls_loss: 0.25, mAP50_95: 0.4, precision: 0.9 })).toEqual({
      train_loss: 3,
      val_loss: 0.75,
      mAP: 0.4,
      precision: 0.9,
    });
  });

  it("maps queued work to pending and requests in flight to running", () => {
    expect(trainingMetricsTask(experimentRow({ status: "queued" })).status).toBe("pending");
    expect(trainingMetricsTask(experimentRow({ status: "stopping" })).status).toBe("running");
    expect(trainingMetricsTask(experimentRow({ status: "completed" })).status).toBe("completed");
  });
});

describe("seed 001 training metrics: log stream", () => {
  it("renders a log line exactly like the document's log entry", () => {
    const log = logRow({ level: "info", stage: "training", epoch: 3, message: "Train Loss: 0.5234, Train Accuracy: 82.45%", metrics: { train_loss: 0.5234, train_acc: 82.45 } });
    expect(trainingMetricsLogEntry(log, 10)).toEqual(seedLogEntry);
  });

  it("leaves metrics out of lines without any", () => {
    const entry = trainingMetricsLogEntry(logRow({ level: "warn", stage: "start", message: "no validation images" }), 10);
    expect(entry).toEqual({ timestamp: "2025-10-29T10:16:45", level: "WARN", message: "no validation images", stage: "start" });
  });

  it("frames an entry as a Server-Sent Event whose id is the sequence number", () => {
    expect(sseFrame(7, { a: 1 })).toBe('id: 7\ndata: {"a":1}\n\n');
  });

  it("resumes after Last-Event-ID first, else ?since=, else from the start", () => {
    expect(sseResumeAfter("12", "3")).toBe(12);
    expect(sseResumeAfter(null, "3")).toBe(3);
    expect(sseResumeAfter(null, null)).toBe(0);
    expect(() => sseResumeAfter("x", null)).toThrow(Invalid);
  });
});

describe("seed 001 training metrics: start request", () => {
  it("reads the document's curl body", () => {
    const body = { model: "resnet18", num_classes: 37, train_path: "/data/train", val_path: "/data/val", save_path: "/checkpoints", num_epochs: 10, device: "cuda:0" };
    expect(parseTrainingMetricsStart(body)).toEqual({
      model: "resnet18",
      numClasses: 37,
      trainPath: "/data/train",
      valPath: "/data/val",
      savePath: "/checkpoints",
      device: "cuda:0",
      name: undefined,
      hyperparameters: { epochs: 10 },
    });
  });

  it("names a missing train_path", () => {
    expect(() => parseTrainingMetricsStart({ model: "resnet18" })).toThrow(/train_path is required/);
  });

  it("treats a task id that is not a positive integer as unknown", () => {
    expect(parseTrainingMetricsTaskId("5")).toBe(5);
    expect(() => parseTrainingMetricsTaskId("abc-123")).toThrow(NotFound);
  });
});
