// train() with device "ort": it learns the generated shapes, says which engine trained, resumes to
// the metrics of an uninterrupted run, and its checkpoints continue on the TF.js engine (and back).
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { initBackend } from "../backend/index";
import { makeShapesImageFolder } from "../data/testing/shapes";
import { SHAPES_LEARNING_DATA, shapesLearningRun, writeShapesDataset } from "../detect/testing/shapes-dataset";
import { readCheckpoint, disposeContents } from "../train/checkpoint";
import type { TrainConfigInput } from "../train/config";
import { train, type TrainEvent, type TrainResult } from "../train/loop";

let data: string;
let runsDir: string;

beforeAll(async () => {
  await initBackend("wasm");
  const root = await mkdtemp(path.join(os.tmpdir(), "ort-train-"));
  data = path.join(root, "shapes");
  runsDir = path.join(root, "runs");
  await makeShapesImageFolder(data, { classes: 3, perClass: 60, size: 32, seed: 3 });
});

const base = (overrides: Partial<TrainConfigInput>): TrainConfigInput => ({
  data,
  model: "reference-cnn",
  imgsz: 32,
  batch: 16,
  optimizer: "Adam",
  lr0: 0.005,
  warmup_epochs: 0,
  runsDir,
  project: "ort",
  log_every: 1,
  device: "ort",
  ...overrides,
});

async function run(config: TrainConfigInput, control?: (events: TrainEvent[]) => "continue" | "stop" | "pause"): Promise<{ result: TrainResult; events: TrainEvent[] }> {
  const events: TrainEvent[] = [];
  const result = await train(config, { onEvent: (e) => void events.push(e), control: control && (() => control(events)) });
  return { result, events };
}

const epochEnds = (events: TrainEvent[]) => events.filter((e): e is Extract<TrainEvent, { type: "epoch_end" }> => e.type === "epoch_end");
const logs = (events: TrainEvent[]) => events.flatMap((e) => (e.type === "log" ? [e.message] : []));
const startOf = (events: TrainEvent[]) => events.find((e): e is Extract<TrainEvent, { type: "start" }> => e.type === "start")!;

describe("train() on ONNX Runtime", () => {
  it("learns: the reference CNN separates generated shapes (val_acc ≥ 0.9), and the run says ort trained it", async () => {
    const { result, events } = await run(base({ name: "learn", epochs: 20, patience: 20, lr0: 0.01, momentum: 0.9, lrf: 0.1 }));
    const ends = epochEnds(events);
    expect(result.status).toBe("completed");
    expect(result.bestFitness).toBeGreaterThanOrEqual(0.9);
    expect(ends.at(-1)!.metrics.train_loss).toBeLessThan(ends[0].metrics.train_loss * 0.5);
    expect(startOf(events).backend).toMatchObject({ device: "ort", backend: "ort" });
    expect(logs(events)).toContain(`Device: ${startOf(events).backend.description}`);
    expect(logs(events).some((l) => l.startsWith("ONNX Runtime training graph formulations"))).toBe(true);
  });

  it("resumes to the same per-epoch metrics as an uninterrupted run (pause mid-epoch)", async () => {
    const config = base({ epochs: 2, optimizer: "AdamW", lr0: 0.003, warmup_epochs: 1, cos_lr: true });
    const whole = await run({ ...config, name: "whole" });
    const stepsInEpoch2 = (events: TrainEvent[]) => events.filter((e) => e.type === "step" && e.epoch === 2).length;
    const first = await run({ ...config, name: "parts" }, (events) => (stepsInEpoch2(events) === 4 ? "pause" : "continue"));
    expect(first.result.status).toBe("paused");
    const second = await run({ ...config, name: "parts", resume: true });
    expect(second.result.status).toBe("completed");
    const resumed = [...epochEnds(first.events), ...epochEnds(second.events)];
    const reference = epochEnds(whole.events);
    expect(resumed.map((e) => e.epoch)).toEqual([1, 2]);
    for (const [i, ref] of reference.entries()) {
      for (const key of ["train_loss", "train_acc", "val_loss", "val_acc", "learning_rate"]) {
        expect(resumed[i].metrics[key], `epoch ${i + 1} ${key}`).toBeCloseTo(ref.metrics[key], 4);
      }
    }
  });

  it("stops early when validation fitness does not improve for `patience` epochs", async () => {
    const { result, events } = await run(base({ name: "early", epochs: 6, patience: 2, lr0: 1e-9 }));
    expect(result.stoppedEarly).toBe(true);
    expect(epochEnds(events).length).toBeLessThan(6);
    expect(logs(events).some((l) => l.startsWith("Stopping training early"))).toBe(true);
  });

  it("writes checkpoints the TF.js engine resumes from, and resumes TF.js checkpoints", async () => {
    const onOrt = await run(base({ name: "cross", epochs: 1 }));
    const saved = await readCheckpoint(onOrt.result.lastCheckpoint);
    try {
      expect(saved.optimizer?.step).toBe(epochEnds(onOrt.events).length * Math.ceil(144 / 16));
      expect(saved.optimizer?.slots.map((s) => s.name).sort()).toEqual(
        ["conv1/kernel", "conv1/bias", "conv2/kernel", "conv2/bias", "conv3/kernel", "conv3/bias", "fc/kernel", "fc/bias"].flatMap((k) => [`${k}/m`, `${k}/v`]).sort(),
      );
    } finally {
      disposeContents(saved);
    }
    const onWasm = await run(base({ name: "cross", resume: true, epochs: 2, device: "wasm" }));
    expect(onWasm.result.status).toBe("completed");
    expect(startOf(onWasm.events).backend.backend).toBe("wasm");
    const backOnOrt = await run(base({ name: "cross", resume: true, epochs: 3, device: "ort" }));
    expect(backOnOrt.result.status).toBe("completed");
    expect(startOf(backOnOrt.events).backend.backend).toBe("ort");
    const losses = [...epochEnds(onOrt.events), ...epochEnds(onWasm.events), ...epochEnds(backOnOrt.events)].map((e) => e.metrics.train_loss);
    expect(losses).toHaveLength(3);
    expect(losses[2]).toBeLessThan(losses[0]);
  });
});

describe("detection training on ONNX Runtime", () => {
  it("learns: a width-scaled yolov8n reaches mAP50 ≥ 0.5 on generated shapes at imgsz 64, and the run says ort trained it", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "ort-detect-"));
    await writeShapesDataset(path.join(root, "data"), SHAPES_LEARNING_DATA);
    const events: TrainEvent[] = [];
    const result = await train(shapesLearningRun(root, "ort"), { onEvent: (e) => void events.push(e) });
    expect(result.status).toBe("completed");
    expect(result.bestMetrics.mAP50).toBeGreaterThanOrEqual(0.5);
    expect(startOf(events).backend).toMatchObject({ device: "ort", backend: "ort" });
    expect(epochEnds(events)[0].metrics).toMatchObject({ train_box_loss: expect.any(Number), train_cls_loss: expect.any(Number), train_dfl_loss: expect.any(Number) });
  }, 240_000);
});
