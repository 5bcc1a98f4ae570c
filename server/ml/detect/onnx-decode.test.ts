import { describe, it, expect } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { compileGraph } from "../graph/index";
import { loadOnnxSession } from "../onnx/runtime";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { decodeRawOutput, makeAnchors } from "./dfl";
import { exportDetectionOnnx } from "./onnx-decode";

describe("YOLOv8 ONNX export with decode", () => {
  it.each([12, 17])("gives the same decoded [N, 4+nc, anchors] output in ONNX Runtime as TF.js + decodeRawOutput (opset %i)", async (opset) => {
    const imgsz = 64;
    const classNames = ["red", "green", "blue"];
    const graph = yolov8Graph({ numClasses: classNames.length, scale: YOLOV8_SCALES.n, width: 0.25 });
    const model = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 1 });
    const batch = 2;
    const nhwc = tf.randomUniform([batch, imgsz, imgsz, 3], 0, 1, "float32", 5);
    const raw = (model.predict(nhwc) as tf.Tensor).dataSync() as Float32Array;
    const grid = makeAnchors(imgsz, imgsz);
    const expected = decodeRawOutput(raw, { batch, numClasses: classNames.length, grid });

    const bytes = await exportDetectionOnnx(model, graph, { classNames, imgsz, dynamicBatch: true, opset });
    const session = await loadOnnxSession(bytes);
    try {
      const nchw = nhwc.transpose([0, 3, 1, 2]).dataSync() as Float32Array;
      const [out] = await session.run(nchw, [batch, 3, imgsz, imgsz]);
      expect(out.dims).toEqual([batch, 4 + classNames.length, grid.count]);
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
      expect(maxDiff).toBeLessThan(1e-4);
      expect(JSON.parse(session.metadata.names)).toEqual({ 0: "red", 1: "green", 2: "blue" });
      expect(session.metadata.task).toBe("detect");
    } finally {
      await session.release();
    }
  });
});
