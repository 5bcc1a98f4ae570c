import { describe, expect, it } from "vitest";
import { Conflict, Invalid, NotFound, Unauthorized } from "@/server/errors";
import { experimentRow } from "@/server/compat/shared/experiment-fixture";
import {
  parseStudioV1Control,
  parseStudioV1CreateExperiment,
  parseStudioV1Id,
  parseStudioV1Rename,
  parseStudioV1StatusFilter,
  studioV1Experiment,
  studioV1LogPacket,
  studioV1MetricHistory,
  studioV1MetricsPacket,
  studioV1StatusPacket,
} from "./mapper";
import { restError } from "@/server/http/rest-error";

// Packets of seed 002 §3.2 (training log and monitoring stream).
const seedLogPacket = { type: "log", data: "[INFO] Epoch 10/100: box_loss: 0.042, cls_loss: 0.012" };
const seedMetricsPacket = { type: "metrics_update", data: { epoch: 10, train_loss: 0.054, val_loss: 0.062, val_metric: 0.88 } };

describe("seed 002 studio backend: training stream packets (§3.2)", () => {
  it("renders a log line as {type:'log', data:'[LEVEL] message'} with its seq beside", () => {
    const packet = studioV1LogPacket({ seq: 17, level: "info", message: "Epoch 10/100: box_loss: 0.042, cls_loss: 0.012" });
    expect(packet).toEqual({ ...seedLogPacket, seq: 17 });
  });

  it("renders an epoch's metrics exactly like the metrics_update example", () => {
    const packet = studioV1MetricsPacket({ epoch: 10, values: { train_loss: 0.054, val_loss: 0.062, top1_acc: 0.88, learning_rate: 0.01 } });
    expect(packet).toEqual(seedMetricsPacket);
  });

  it("uses a detector's summed losses and mAP50-95 as val_metric", () => {
    const packet = studioV1MetricsPacket({ epoch: 2, values: { train_box_loss: 0.03, train_cls_loss: 0.024, val_box_loss: 0.04, val_cls_loss: 0.022, mAP50_95: 0.88 } });
    expect(packet.data).toEqual({ epoch: 2, train_loss: 0.054, val_loss: 0.062, val_metric: 0.88 });
  });

  it("renders a status change with end_time in ISO 8601 (§1), null while not ended", () => {
    expect(studioV1StatusPacket({ status: "completed", finishedAt: new Date("2023-10-27T12:30:00.123Z") })).toEqual({
      type: "status_change",
      data: { status: "completed", end_time: "2023-10-27T12:30:00Z" },
    });
    expect(studioV1StatusPacket({ status: "running", finishedAt: null }).data).toEqual({ status: "running", end_time: null });
  });
});

describe("seed 002 studio backend: experiments (§2.5)", () => {
  it("renders an experiment with the request's field names and integer ids", () => {
    const body = studioV1Experiment(
      experimentRow({ id: 9, name: "exp", task: "classify", model: null, architectureId: 4, augmentationId: 2, datasetId: 3, status: "queued", createdAt: new Date("2023-10-27T00:00:00Z") }),
    );
    expect(body).toMatchObject({ id: 9, name: "exp", task: "classify", status: "queued", dataset_id: 3, model_arch_id: 4, aug_id: 2, created_at: "2023-10-27T00:00:00Z", end_time: null });
    expect(body.hyperparams).toEqual({ epochs: 100, batch: 16, lr0: 0.01 });
  });

  it("reads the create body: an architecture id or a zoo model name, aliases of hyper-parameters", () => {
    const withArch = parseStudioV1CreateExperiment({ name: "a", task: "classify", dataset_id: 1, model_arch_id: 2, aug_id: 3, hyperparams: { epochs: 5, batch_size: 8, lr: 0.001, device: "cpu" } });
    expect(withArch).toEqual({ name: "a", task: "classify", datasetId: 1, architectureId: 2, augmentationId: 3, device: "cpu", hyperparameters: { epochs: 5, batch: 8, lr0: 0.001 } });
    const withZoo = parseStudioV1CreateExperiment({ name: "b", dataset_id: 1, model_arch_id: "resnet18" });
    expect(withZoo).toMatchObject({ model: "resnet18", hyperparameters: {} });
    expect(withZoo).not.toHaveProperty("architectureId");
  });

  it("names what is wrong in a create body", () => {
    expect(() => parseStudioV1CreateExperiment({ name: "x", model_arch_id: 1 })).toThrow(/dataset_id/);
  });

  it("reads control actions, with what resume may change", () => {
    expect(parseStudioV1Control({ action: "pause" })).toEqual({ action: "pause" });
    expect(parseStudioV1Control({ action: "resume", epochs: 20 })).toEqual({ action: "resume", epochs: 20 });
    expect(() => parseStudioV1Control({ action: "restart" })).toThrow(Invalid);
  });

  it("reads rename, ids and the status filter", () => {
    expect(parseStudioV1Rename({ name: " New Name " })).toEqual({ name: "New Name" });
    expect(parseStudioV1Id("12", "Experiment")).toBe(12);
    expect(() => parseStudioV1Id("x", "Experiment")).toThrow(NotFound);
    expect(parseStudioV1StatusFilter("running")).toBe("running");
    expect(parseStudioV1StatusFilter(null)).toBeUndefined();
    expect(() => parseStudioV1StatusFilter("done")).toThrow(/status must be one of/);
  });

  it("returns one chart point per finished epoch, oldest first", () => {
    const history = studioV1MetricHistory([
      { epoch: 2, step: 0, values: { train_loss: 0.5 } },
      { epoch: 1, step: 0, values: { train_loss: 0.9, val_loss: 1, top1_acc: 0.5 } },
      { epoch: 2, step: 10, values: { train_loss: 0.6 } },
    ]);
    expect(history).toEqual([
      { epoch: 1, train_loss: 0.9, val_loss: 1, val_metric: 0.5 },
      { epoch: 2, train_loss: 0.5, val_loss: null, val_metric: null },
    ]);
  });
});

describe("seed 002 studio backend: errors (§1 status codes)", () => {
  it.each([
    [new Invalid("bad"), 400],
    [new Unauthorized("who"), 401],
    [new NotFound("gone"), 404],
    [new Conflict("name taken"), 422],
  ])("renders %s with its status and {detail}", async (err, status) => {
    const res = restError(err);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ detail: err.message });
  });
});
