// A detection run moves between engines: a tiny YOLOv8 trained an epoch on ONNX Runtime resumes on
// the TF.js engine (WASM) and back. The resumed run starts at the saved epoch with the checkpoint's
// weights, moving statistics and optimizer state bit for bit (a stop before its first step writes
// them back unchanged), then trains on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { initBackend } from "../backend/index";
import { writeShapesDataset } from "../detect/testing/shapes-dataset";
import { disposeContents, readCheckpoint, type CheckpointContents } from "../train/checkpoint";
import type { TrainConfigInput } from "../train/config";
import { train, type TrainControl, type TrainEvent } from "../train/loop";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";

let root: string;
const TRAIN_IMAGES = 8;
const BATCH = 4;

beforeAll(async () => {
  await initBackend("wasm");
  root = await mkdtemp(path.join(os.tmpdir(), "ort-detect-resume-"));
  await writeShapesDataset(path.join(root, "data"), { train: TRAIN_IMAGES, val: 4, seed: 9, classes: 2, minSize: 48, maxSize: 64 });
});
afterAll(async () => rm(root, { recursive: true, force: true }));

const config = (overrides: Partial<TrainConfigInput>): TrainConfigInput => ({
  task: "detect",
  data: path.join(root, "data"),
  model: yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.125 }),
  imgsz: 64,
  batch: BATCH,
  optimizer: "AdamW",
  lr0: 0.002,
  warmup_epochs: 0,
  mosaic: 0,
  // One thread on wasm too: its data-parallel shares normalise the loss per share, so only one
  // thread's losses compare with ort's whole-batch pass.
  workers: 1,
  runsDir: path.join(root, "runs"),
  project: "cross",
  ...overrides,
});

type EpochEnd = Extract<TrainEvent, { type: "epoch_end" }>;
type Start = Extract<TrainEvent, { type: "start" }>;

async function run(input: TrainConfigInput, control: () => TrainControl = () => "continue") {
  const events: TrainEvent[] = [];
  const result = await train(input, { onEvent: (e) => void events.push(e), control });
  return {
    result,
    epochEnds: events.filter((e): e is EpochEnd => e.type === "epoch_end"),
    start: events.find((e): e is Start => e.type === "start")!,
    steps: events.filter((e) => e.type === "step").length,
  };
}

const lastOf = (name: string) => path.join(root, "runs", "cross", name, "weights", "last.ckpt");

/** Every weight and optimizer slot of `b` equals `a`'s exactly; same optimizer step. */
function expectSameState(a: CheckpointContents, b: CheckpointContents): void {
  expect(Object.keys(b.weights).sort()).toEqual(Object.keys(a.weights).sort());
  for (const [name, tensor] of Object.entries(a.weights)) expect(b.weights[name].dataSync(), name).toEqual(tensor.dataSync());
  expect(b.optimizer?.step).toBe(a.optimizer?.step);
  const slots = new Map(b.optimizer?.slots.map((s) => [s.name, s.tensor]));
  expect([...slots.keys()].sort()).toEqual(a.optimizer!.slots.map((s) => s.name).sort());
  for (const slot of a.optimizer!.slots) expect(slots.get(slot.name)!.dataSync(), slot.name).toEqual(slot.tensor.dataSync());
}

/** Resumes the run `name` on `device` and stops before its first step: the checkpoint it writes is the state it loaded. */
async function loadedState(name: string, device: string, epochs: number): Promise<CheckpointContents> {
  const stopped = await run(config({ name, resume: true, epochs, device }), () => "stop");
  expect(stopped.result.status).toBe("stopped");
  expect(stopped.start).toMatchObject({ resumed: true, startEpoch: epochs, backend: { backend: device } });
  expect(stopped.steps).toBe(0);
  return readCheckpoint(lastOf(name));
}

describe("a detection run resumes on the other engine", () => {
  it("an epoch on ort, then on wasm from its checkpoint, then on ort again: each starts at the saved epoch with the saved state", async () => {
    const first = await run(config({ name: "a", epochs: 1, device: "ort" }));
    expect(first.result.status).toBe("completed");
    expect(first.start.backend.backend).toBe("ort");
    const onOrt = await readCheckpoint(lastOf("a"));
    try {
      expect(onOrt.header.progress).toMatchObject({ epoch: 2, step: 0 });
      expect(onOrt.optimizer?.step).toBe(TRAIN_IMAGES / BATCH);
      const loaded = await loadedState("a", "wasm", 2);
      try {
        expect(loaded.header.progress).toMatchObject({ epoch: 2, step: 0 });
        expectSameState(onOrt, loaded);
      } finally {
        disposeContents(loaded);
      }
    } finally {
      disposeContents(onOrt);
    }

    // Epoch 2 on wasm, from the same checkpoint (the stop above left it as it was).
    const onWasm = await run(config({ name: "a", resume: true, epochs: 2, device: "wasm" }));
    expect(onWasm.result.status).toBe("completed");
    expect(onWasm.epochEnds.map((e) => e.epoch)).toEqual([2]);
    const afterWasm = await readCheckpoint(lastOf("a"));
    try {
      expect(afterWasm.header.progress).toMatchObject({ epoch: 3, step: 0 });
      expect(afterWasm.optimizer?.step).toBe((2 * TRAIN_IMAGES) / BATCH);
      // A copy of the run resumes on wasm too: ort's epoch 3 must train what wasm's does from the same state.
      await cp(path.join(root, "runs", "cross", "a"), path.join(root, "runs", "cross", "b"), { recursive: true });
      const loaded = await loadedState("a", "ort", 3);
      try {
        expect(loaded.header.progress).toMatchObject({ epoch: 3, step: 0 });
        expectSameState(afterWasm, loaded);
      } finally {
        disposeContents(loaded);
      }
    } finally {
      disposeContents(afterWasm);
    }

    const backOnOrt = await run(config({ name: "a", resume: true, epochs: 3, device: "ort" }));
    const reference = await run(config({ name: "b", resume: true, epochs: 3, device: "wasm" }));
    expect(backOnOrt.result.status).toBe("completed");
    expect(backOnOrt.start).toMatchObject({ resumed: true, startEpoch: 3, backend: { backend: "ort" } });
    expect(backOnOrt.epochEnds.map((e) => e.epoch)).toEqual([3]);
    expect(reference.epochEnds.map((e) => e.epoch)).toEqual([3]);
    for (const key of ["train_loss", "train_box_loss", "train_cls_loss", "train_dfl_loss"]) {
      const [got, want] = [backOnOrt.epochEnds[0].metrics[key], reference.epochEnds[0].metrics[key]];
      expect(Math.abs(got - want) / Math.abs(want), key).toBeLessThan(1e-2);
    }
  }, 240_000);
});
