import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it, expect } from "vitest";
import type { RgbImage } from "../data/image";
import { decodeModel, ModelProto } from "../export/onnx-proto";
import { compileGraph } from "../graph/index";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { exportDetectionOnnx } from "./onnx-decode";
import { onnxDetector, parseOnnxNames, tfjsDetector } from "./predictor";

describe("parseOnnxNames", () => {
  it("reads our JSON names and Ultralytics' Python-dict names in class-id order", () => {
    expect(parseOnnxNames('{"1":"dog","0":"cat"}')).toEqual(["cat", "dog"]);
    expect(parseOnnxNames("{0: 'person', 1: 'bicycle', 2: \"dog's bowl\", 3: 'traffic light'}")).toEqual(["person", "bicycle", "dog's bowl", "traffic light"]);
    expect(parseOnnxNames('["a","b"]')).toEqual(["a", "b"]);
  });

  it("gives null for missing, unreadable or gapped names", () => {
    expect(parseOnnxNames(undefined)).toBeNull();
    expect(parseOnnxNames("cats and dogs")).toBeNull();
    expect(parseOnnxNames("{0: 'a', 2: 'c'}")).toBeNull();
  });
});

/** The metadata Ultralytics' `yolo export format=onnx` writes (Python reprs, a static batch of 1). */
function ultralyticsMetadata(classNames: string[], imgsz: number): { key: string; value: string }[] {
  return [
    { key: "description", value: "Ultralytics YOLOv8n model trained on shapes.yaml" },
    { key: "author", value: "Ultralytics" },
    { key: "date", value: "2026-11-01T10:00:00.000000" },
    { key: "version", value: "8.3.40" },
    { key: "license", value: "AGPL-3.0 License (https://ultralytics.com/license)" },
    { key: "stride", value: "32" },
    { key: "task", value: "detect" },
    { key: "batch", value: "1" },
    { key: "imgsz", value: `[${imgsz}, ${imgsz}]` },
    { key: "names", value: `{${classNames.map((name, i) => `${i}: '${name}'`).join(", ")}}` },
    { key: "args", value: "{'batch': 1, 'half': False, 'int8': False, 'dynamic': False, 'nms': False}" },
  ];
}

describe("onnxDetector", () => {
  it("serves a file with Ultralytics' static input and metadata like the TF.js model it came from", async () => {
    const imgsz = 64;
    const classNames = ["red", "green", "blue"];
    const graph = yolov8Graph({ numClasses: classNames.length, scale: YOLOV8_SCALES.n, width: 0.25 });
    const model = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 3 });
    // An untrained head scores every anchor near its prior: louder class kernels spread the scores.
    for (const level of [0, 1, 2]) {
      const layer = model.getLayer(`detect_cls${level}_pred`);
      const [kernel, bias] = layer.getWeights();
      layer.setWeights([kernel.mul(40), bias.add(3)]);
    }
    const bytes = await exportDetectionOnnx(model, graph, { classNames, imgsz, dynamicBatch: false });
    const ours = decodeModel(bytes);
    expect(ours.graph.input[0].name).toBe("images");
    expect(ours.graph.output[0].name).toBe("output0");
    // Only the metadata is swapped: re-encoding the decoded message keeps everything else byte for byte.
    const message = ModelProto.decode(bytes) as unknown as { metadata_props: { key: string; value: string }[] };
    message.metadata_props = ultralyticsMetadata(classNames, imgsz);
    const dir = await mkdtemp(path.join(os.tmpdir(), "ultralytics-onnx-"));
    const file = path.join(dir, "best.onnx");
    await writeFile(file, ModelProto.encode(message as never).finish());

    // A non-square picture, so the letterbox and the mapping back to its pixels matter.
    const img: RgbImage = { width: 96, height: 48, data: Uint8Array.from({ length: 96 * 48 * 3 }, (_, i) => (i * 37) % 251) };
    const reference = tfjsDetector(model, classNames, imgsz);
    const served = await onnxDetector(file);
    try {
      expect(served.classNames).toEqual(classNames);
      expect(served.imgsz).toBe(imgsz);
      // Keep every candidate; match detections by class, box and score rather than by rank (near-equal scores may swap places).
      const nms = { conf: 0, maxDet: 10 };
      const expected = await reference.detect(img, nms);
      const got = await served.detect(img, nms);
      expect(expected.length).toBe(10);
      expect(got.length).toBe(10);
      for (const want of expected) {
        const match = got.find((d) => d.cls === want.cls && Math.abs(d.score - want.score) < 1e-5 && d.box.every((v, k) => Math.abs(v - want.box[k]) < 1e-2));
        expect(match, `detection ${JSON.stringify(want)}`).toBeDefined();
        expect(match!.box[2]).toBeLessThanOrEqual(96);
        expect(match!.box[3]).toBeLessThanOrEqual(48);
      }
    } finally {
      await served.release();
      await reference.release();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
