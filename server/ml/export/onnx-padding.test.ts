import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileGraph, type ModelGraph } from "../graph";
import { loadOnnxSession } from "../onnx/runtime";
import { exportOnnx } from "./onnx";
import { decodeModel } from "./onnx-proto";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const chain = (...nodes: ModelGraph["nodes"]): ModelGraph => ({
  nodes,
  edges: nodes.slice(1).map((node, i) => ({ source: nodes[i].id, target: node.id })),
});

describe("ONNX export of PyTorch's padding", () => {
  it("at stride 2 on an even size: pads [1, 1, 1, 1], and a max pool over negative values agrees with TF.js to 1e-4", async () => {
    const graph = chain(
      { id: "in", type: "Input" },
      { id: "conv", type: "Conv2d", data: { filters: 8, kernel_size: 3, stride: 2, padding: 1, activation: "sigmoid" } },
      { id: "negative", type: "Conv2d", data: { filters: 8, kernel_size: 1, bias: false } },
      { id: "pool", type: "MaxPool", data: { kernel_size: 3, stride: 2, padding: 1 } },
      { id: "down", type: "DepthwiseConv2d", data: { kernel_size: 3, stride: 2, padding: 1 } },
      { id: "gap", type: "GlobalAvgPool" },
      { id: "fc", type: "Dense", data: { units: 4 } },
    );
    const model = compileGraph(graph, { inputShape: [32, 32, 3], seed: 3 });
    const negative = model.getLayer("negative");
    // Sigmoid outputs times negative weights: every pooled value is below zero, so zero padding would show.
    negative.setWeights(negative.getWeights().map((w) => tf.neg(tf.abs(w))));
    const bytes = await exportOnnx(model, graph, { classNames: ["a", "b", "c", "d"], task: "classify", imgsz: 32 });
    const pads = (op: string) => decodeModel(bytes).graph.node.find((n) => n.op_type === op && n.name.startsWith(op === "MaxPool" ? "pool" : "conv"))!.attribute.find((a) => a.name === "pads")!.ints;
    expect(pads("Conv")).toEqual([1, 1, 1, 1]);
    expect(pads("MaxPool")).toEqual([1, 1, 1, 1]);

    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, "float32", 4);
    const expected = tf.softmax(model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    const session = await loadOnnxSession(bytes);
    try {
      const [result] = await session.run(tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array, [1, 3, 32, 32]);
      expect(expected.reduce((max, v, i) => Math.max(max, Math.abs(v - result.data[i])), 0)).toBeLessThanOrEqual(1e-4);
    } finally {
      await session.release();
    }
  });
});
