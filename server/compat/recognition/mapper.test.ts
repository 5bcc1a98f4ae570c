import { describe, expect, it } from "vitest";
import { NotFound } from "@/server/errors";
import { experimentRow } from "@/server/compat/shared/experiment-fixture";
import { parseRecognitionJobId, parseRecognitionStart, recognitionJob } from "./mapper";

describe("seed 003 recognition backend: /train jobs", () => {
  it("renders a job as the mock's dict, now from a real run", () => {
    const job = recognitionJob(
      experimentRow({
        id: 8,
        model: "mobilenet_v2",
        status: "running",
        progress: 40,
        currentEpoch: 4,
        totalEpochs: 10,
        latestMetrics: { train_loss: 0.38, top1_acc: 0.8, val_acc: 0.8 },
        createdAt: new Date("2023-11-15T08:00:00Z"),
        updatedAt: new Date("2023-11-15T08:10:00Z"),
      }),
    );
    // The mock's fields: status, progress (0..100), metrics {current_epoch, total_epochs, loss, accuracy, last_updated}.
    expect(job).toEqual({
      job_id: "8",
      model_id: "mobilenet_v2",
      status: "running",
      progress: 40,
      metrics: { current_epoch: 4, total_epochs: 10, loss: 0.38, accuracy: 0.8, last_updated: "2023-11-15T08:10:00" },
      created_at: "2023-11-15T08:00:00",
    });
  });

  it("leaves loss and accuracy out until the first epoch", () => {
    const job = recognitionJob(experimentRow({ status: "queued", latestMetrics: {} }));
    expect(job.status).toBe("pending");
    expect(job.metrics).not.toHaveProperty("loss");
    expect(job.metrics).not.toHaveProperty("accuracy");
  });

  it("shows a run that is stopping as still running, so old clients keep polling", () => {
    expect(recognitionJob(experimentRow({ status: "stopping" })).status).toBe("running");
  });

  it("reads a start request into engine names", () => {
    expect(parseRecognitionStart({ model_id: "mobilenet_v2", epochs: 3, dataset_id: 2 })).toEqual({
      model: "mobilenet_v2",
      datasetId: 2,
      device: undefined,
      name: undefined,
      hyperparameters: { epochs: 3 },
    });
    expect(() => parseRecognitionStart({ epochs: 3 })).toThrow(/model_id is required/);
    expect(() => parseRecognitionJobId("e125f230")).toThrow(NotFound);
  });
});
