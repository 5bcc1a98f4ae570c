import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { train, type TrainControl, type TrainEvent } from "../train/loop";
import type { TrainConfigInput } from "../train/config";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { writeShapesDataset } from "./testing/shapes-dataset";

describe("detection resume", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "detect-resume-"));
    await writeShapesDataset(path.join(root, "data"), { train: 12, val: 4, seed: 6, classes: 2, minSize: 48, maxSize: 64 });
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  type EpochEnd = Extract<TrainEvent, { type: "epoch_end" }>;
  const run = async (config: TrainConfigInput, control: (events: TrainEvent[]) => TrainControl = () => "continue") => {
    const events: TrainEvent[] = [];
    const result = await train(config, { onEvent: (e) => void events.push(e), control: () => control(events) });
    return { result, epochEnds: events.filter((e): e is EpochEnd => e.type === "epoch_end") };
  };

  it("stopped after epoch 1 and resumed, gives the per-epoch metrics of an uninterrupted run", async () => {
    const config: TrainConfigInput = {
      task: "detect",
      data: path.join(root, "data"),
      model: yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.125 }),
      imgsz: 64,
      epochs: 2,
      batch: 8,
      optimizer: "AdamW",
      lr0: 0.002,
      warmup_epochs: 1,
      // Mosaic in epoch 1 only: the resumed run must still know to close it.
      mosaic: 1,
      close_mosaic: 1,
      runsDir: path.join(root, "runs"),
    };
    const whole = await run({ ...config, name: "whole" });
    const first = await run({ ...config, name: "parts" }, (events) => (events.some((e) => e.type === "epoch_end") ? "stop" : "continue"));
    expect(first.result.status).toBe("stopped");
    expect(first.epochEnds.map((e) => e.epoch)).toEqual([1]);
    const second = await run({ ...config, name: "parts", resume: true });
    expect(second.result.status).toBe("completed");
    expect(second.result.runDir).toBe(first.result.runDir);

    const resumed = [...first.epochEnds, ...second.epochEnds];
    expect(resumed.map((e) => e.epoch)).toEqual([1, 2]);
    const keys = ["train_box_loss", "train_cls_loss", "train_dfl_loss", "val_box_loss", "val_cls_loss", "val_dfl_loss", "precision", "recall", "mAP50", "mAP50_95", "learning_rate"];
    for (const [i, reference] of whole.epochEnds.entries()) {
      for (const key of keys) {
        expect(Number.isFinite(reference.metrics[key]), `epoch ${i + 1} ${key}`).toBe(true);
        expect(resumed[i].metrics[key], `epoch ${i + 1} ${key}`).toBeCloseTo(reference.metrics[key], 5);
      }
    }
    // Mosaic changes the training batches: epoch 2 (closed) must differ from a run that keeps mosaic on.
    const mosaicOn = await run({ ...config, name: "mosaic-on", close_mosaic: 0 });
    expect(mosaicOn.epochEnds[1].metrics.train_box_loss).not.toBeCloseTo(whole.epochEnds[1].metrics.train_box_loss, 5);
  }, 120_000);
});
