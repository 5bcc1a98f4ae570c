import { describe, it, expect } from "vitest";
import { analyzeGraph } from "../graph/index";
import { yolov8Graph, yolov8Models, YOLOV8_SCALES } from "./yolov8";

const PUBLISHED_PARAMS = { n: 3_157_200, s: 11_166_560, m: 25_902_640, l: 43_691_520, x: 68_229_648 };

describe("yolov8 zoo graphs", () => {
  for (const [size, published] of Object.entries(PUBLISHED_PARAMS)) {
    it(`yolov8${size} has the published parameter count (80 classes)`, () => {
      const summary = analyzeGraph(yolov8Graph({ numClasses: 80, scale: YOLOV8_SCALES[size as keyof typeof YOLOV8_SCALES] }), [640, 640, 3]);
      // Ultralytics counts BatchNorm's affine weights but not its running statistics.
      const params = summary.totalTrainableParams;
      // The published figure includes the 16 fixed weights of the DFL conv, which we decode outside the graph.
      expect(params).toBe(published - 16);
    });
  }

  it("outputs 4*16 + nc channels for every anchor of strides 8/16/32, for any multiple of 32", () => {
    const graph = yolov8Models[0].graph({ imgsz: 96, numClasses: 3 });
    const summary = analyzeGraph(graph, [96, 160, 3]);
    expect(summary.outputShapes).toEqual([[12 * 20 + 6 * 10 + 3 * 5, 64 + 3]]);
    expect(() => yolov8Models[0].graph({ imgsz: 100, numClasses: 3 })).toThrow(/multiple of 32/);
  });

  it("shrinks with the width override for tests", () => {
    const tiny = analyzeGraph(yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.25 }), [64, 64, 3]);
    expect(tiny.totalTrainableParams).toBeLessThan(400_000);
  });
});
