import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTorchCheckpoint, readTorchMetadata } from "../torch-zip";
import { writeUltralyticsCheckpoint } from "./ultralytics-checkpoint";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "ultralytics-checkpoint-"));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe("a written Ultralytics-style checkpoint", () => {
  it("reads back as Ultralytics' own do: module names, classes, task, imgsz, stride, BatchNorm settings and the values written", async () => {
    const shapes: Record<string, number[]> = JSON.parse(await readFile(path.join(import.meta.dirname, "..", "fixtures", "yolov8n_state_dict_shapes.json"), "utf8"));
    const file = path.join(work, "yolov8n.pt");
    const names = Array.from({ length: 80 }, (_, i) => `class${i}`);
    await writeUltralyticsCheckpoint(file, { tensors: shapes, names, yamlFile: "yolov8n.yaml", imgsz: 320, value: (i) => (i % 7) / 8 });
    const metadata = await readTorchMetadata(file);
    expect(metadata).toMatchObject({ kind: "ultralytics", modelClass: "ultralytics.nn.tasks.DetectionModel", names, nc: 80, task: "detect", imgsz: [320, 320], stride: [8, 16, 32], tensorCount: 355 });
    expect(metadata.batchNorms["model.22.cv2.0.0.bn"]).toEqual({ eps: 0.001, momentum: 0.03 });
    const full = await readTorchCheckpoint(file);
    expect([...full.tensors.keys()].sort()).toEqual(Object.keys(shapes).sort());
    const weight = full.tensors.get("model.0.conv.weight")!;
    expect(weight).toMatchObject({ dtype: "float16", shape: [16, 3, 3, 3] });
    expect(Array.from(weight.data.slice(0, 8) as Float32Array)).toEqual([0, 1, 2, 3, 4, 5, 6, 0].map((v) => v / 8));
    expect(Math.min(...(full.tensors.get("model.0.bn.running_var")!.data as Float32Array))).toBeGreaterThanOrEqual(1);
  });
});
