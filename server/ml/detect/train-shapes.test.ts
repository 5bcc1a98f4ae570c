import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { train } from "../train/loop";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { writeShapesDataset } from "./testing/shapes-dataset";

// The end-to-end check of the detection stack (readers, loader, head, loss, assigner, NMS, mAP, loop).
// 45-90 s on one WASM thread (mAP50 ≈ 0.83 at the end; 0.5 is first passed around epoch 6-7): the heaviest
// test of this folder, kept within the CI budget.
describe("YOLOv8 training on generated shapes", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "detect-train-"));
    await writeShapesDataset(path.join(root, "data"), { train: 128, val: 16, seed: 1, classes: 3 });
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("reaches mAP50 ≥ 0.5 with a width-scaled yolov8n at imgsz 64", async () => {
    const result = await train(
      {
        task: "detect",
        data: path.join(root, "data"),
        model: yolov8Graph({ numClasses: 3, scale: YOLOV8_SCALES.n, width: 0.25 }),
        imgsz: 64,
        epochs: 15,
        batch: 16,
        optimizer: "Adam",
        lr0: 0.01,
        warmup_epochs: 1,
        seed: 0,
        mosaic: 0,
        // On TF.js's WASM engine (auto would pick ONNX Runtime, whose run is ort/train.test.ts's).
        device: "wasm",
        runsDir: path.join(root, "runs"),
      },
    );
    expect(result.status).toBe("completed");
    expect(result.bestMetrics?.mAP50).toBeGreaterThanOrEqual(0.5);
    const csv = await readFile(path.join(result.runDir, "results.csv"), "utf8");
    expect(csv.split("\n")[0]).toContain("metrics/mAP50-95(B)");
  }, 240_000);
});
