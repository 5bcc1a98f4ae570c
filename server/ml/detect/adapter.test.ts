import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readYolo } from "../data/yolo";
import { createDetectLoader } from "../data/detect-loader";
import { GraphError } from "../graph/index";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { buildDetectModel, detectionFitness, evaluateDetector } from "./adapter";
import { writeShapesDataset } from "./testing/shapes-dataset";

describe("detection adapter pieces", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "detect-adapter-"));
    await writeShapesDataset(root, { train: 2, val: 6, seed: 4, classes: 2 });
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("weighs mAP50-95 nine times mAP50 in fitness", () => {
    expect(detectionFitness({ mAP50: 0.8, mAP50_95: 0.5 })).toBeCloseTo(0.08 + 0.45, 10);
  });

  it("rejects a graph whose Detect head has the wrong number of classes", () => {
    const graph = yolov8Graph({ numClasses: 5, scale: YOLOV8_SCALES.n, width: 0.25 });
    expect(() => buildDetectModel(graph, 64, ["a", "b"], 0)).toThrow(GraphError);
    expect(() => buildDetectModel(graph, 64, ["a", "b"], 0)).toThrow(/nc to 2/);
  });

  it("validates a model into losses, P/R, mAP and per-class details", async () => {
    const index = await readYolo(root);
    const { model } = buildDetectModel(yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.25 }), 64, index.classes, 0);
    const loader = createDetectLoader(index.items.filter((i) => i.split === "val"), { imgsz: 64, batch: 4, shuffle: false, seed: 0 });
    const result = await evaluateDetector(model, loader, index.classes);
    const m = result.metrics;
    for (const key of ["val_box_loss", "val_cls_loss", "val_dfl_loss"]) expect(Number.isFinite(m[key]) && m[key] > 0).toBe(true);
    for (const key of ["precision", "recall", "mAP50", "mAP50_95"]) expect(m[key]).toBeGreaterThanOrEqual(0);
    expect(m.fitness).toBeCloseTo(detectionFitness(m), 10);
    expect(result.details).toMatchObject({ images: 6, classNames: index.classes });
    expect((result.details!.confusion as number[][]).length).toBe(3);
    const imagesPerClass = result.details!.imagesPerClass as number[];
    const expected = [0, 1].map((c) => index.items.filter((i) => i.split === "val" && i.boxes.some((b) => b.cls === c)).length);
    expect(imagesPerClass).toEqual(expected);
    model.dispose();
  });
});
