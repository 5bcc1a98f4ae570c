import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { train } from "../train/loop";
import { SHAPES_LEARNING_DATA, shapesLearningRun, writeShapesDataset } from "./testing/shapes-dataset";

// The end-to-end check of the detection stack (readers, loader, head, loss, assigner, NMS, mAP, loop).
// 45-90 s on one WASM thread (mAP50 ≈ 0.83 at the end; 0.5 is first passed around epoch 6-7): the heaviest
// test of this folder, kept within the CI budget.
describe("YOLOv8 training on generated shapes", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "detect-train-"));
    await writeShapesDataset(path.join(root, "data"), SHAPES_LEARNING_DATA);
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("reaches mAP50 ≥ 0.5 with a width-scaled yolov8n at imgsz 64", async () => {
    // On TF.js's WASM engine (auto would pick ONNX Runtime, whose run is ort/train.test.ts's).
    const result = await train(shapesLearningRun(root, "wasm"));
    expect(result.status).toBe("completed");
    expect(result.bestMetrics?.mAP50).toBeGreaterThanOrEqual(0.5);
    const csv = await readFile(path.join(result.runDir, "results.csv"), "utf8");
    expect(csv.split("\n")[0]).toContain("metrics/mAP50-95(B)");
  }, 240_000);
});
