import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileGraph, type ModelGraph } from "../graph";
import { loadOnnxSession } from "../onnx/runtime";
import { zooGraph } from "../zoo";
import { exportOnnx, type OnnxExportOptions } from "./onnx";
import { float32ToFloat16Bits } from "./onnx-graph";
import { decodeModel, TensorDataType } from "./onnx-proto";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const classNames = (n: number) => Array.from({ length: n }, (_, i) => `class${i}`);

/** Fresh models have zero biases and identity BatchNorm; randomise them so the parity check sees every weight. */
function randomiseNonKernelWeights(model: tf.LayersModel, seed: number): void {
  let count = 0;
  for (const layer of model.layers) {
    const weights = layer.weights;
    if (weights.length === 0) continue;
    layer.setWeights(
      layer.getWeights().map((value, i) => {
        const name = weights[i].originalName;
        const s = seed + count++;
        if (name.endsWith("moving_variance")) return tf.randomUniform(value.shape, 0.5, 1.5, "float32", s);
        if (name.endsWith("gamma")) return tf.randomUniform(value.shape, 0.5, 1.5, "float32", s);
        if (/(bias|beta|moving_mean)$/.test(name)) return tf.randomNormal(value.shape, 0, 0.2, "float32", s);
        return value;
      }),
    );
  }
}

function compile(graph: ModelGraph, imgsz: number): tf.LayersModel {
  const model = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 11 });
  randomiseNonKernelWeights(model, 100);
  return model;
}

/** Max |ONNX Runtime − TF.js| over class probabilities for a random batch. */
async function parity(model: tf.LayersModel, bytes: Uint8Array, batch = 2): Promise<number> {
  const [, h, w, c] = model.inputs[0].shape as number[];
  const x = tf.randomUniform([batch, h, w, c], 0, 1, "float32", 42);
  const output = model.predict(x) as tf.Tensor;
  const endsInSoftmax = model.layers[model.layers.length - 1].getClassName() === "Softmax";
  const expected = (endsInSoftmax ? output : tf.softmax(output)).dataSync() as Float32Array;
  const session = await loadOnnxSession(bytes);
  try {
    const [result] = await session.run(x.transpose([0, 3, 1, 2]).dataSync() as Float32Array, [batch, c, h, w]);
    expect(result.dims).toEqual(output.shape);
    return expected.reduce((max, v, i) => Math.max(max, Math.abs(v - result.data[i])), 0);
  } finally {
    await session.release();
  }
}

/** Concat, Upsample, Slice, SiLU, LeakyReLU, MaxPool, AvgPool (both paddings), ZeroPadding, dilation, groups, Flatten, Softmax. */
const mixed: ModelGraph = {
  nodes: [
    { id: "in", type: "Input" },
    { id: "c1", type: "Conv2d", data: { out: 8, k: 3, p: 1, activation: "silu" } },
    { id: "leaky", type: "LeakyReLU", data: { negative_slope: 0.1 } },
    { id: "mp", type: "MaxPool", data: { k: 2 } },
    { id: "dw", type: "DepthwiseConv2d", data: { k: 3, s: 2, depth_multiplier: 2 } },
    { id: "up", type: "Upsample", data: { scale: 2 } },
    { id: "slice", type: "Slice", data: { start: 4, end: 12 } },
    { id: "cat", type: "Concat" },
    { id: "ap", type: "AvgPool", data: { k: 3, s: 1, p: 1 } },
    { id: "zp", type: "ZeroPadding", data: { padding: [0, 1, 0, 1] } },
    { id: "ap2", type: "AvgPool", data: { k: 2, s: 2, padding: "same" } },
    { id: "c2", type: "Conv2d", data: { out: 8, k: 3, dilation: 2, activation: "sigmoid" } },
    { id: "silu", type: "SiLU" },
    { id: "c3", type: "Conv2d", data: { out: 6, k: 3, s: 2, padding: "valid", groups: 2, activation: "relu6" } },
    { id: "tanh", type: "Tanh" },
    { id: "flat", type: "Flatten" },
    { id: "fc", type: "Dense", data: { units: 5 } },
    { id: "probs", type: "Softmax" },
  ],
  edges: [
    ["in", "c1"], ["c1", "leaky"], ["leaky", "mp"], ["mp", "dw"], ["dw", "up"], ["up", "slice"], ["mp", "cat"], ["slice", "cat"],
    ["cat", "ap"], ["ap", "zp"], ["zp", "ap2"], ["ap2", "c2"], ["c2", "silu"], ["silu", "c3"], ["c3", "tanh"], ["tanh", "flat"],
    ["flat", "fc"], ["fc", "probs"],
  ].map(([source, target]) => ({ source, target })),
};

const base = (numClasses: number, imgsz: number): OnnxExportOptions => ({ classNames: classNames(numClasses), task: "classify", imgsz });

describe("ONNX export parity with TF.js (fp32, max abs diff ≤ 1e-4)", () => {
  it.each([
    ["reference-cnn", zooGraph("reference-cnn", { imgsz: 32, numClasses: 4 })],
    ["resnet18 ×0.125 (BN, Add, projection shortcuts)", zooGraph("resnet18", { imgsz: 32, numClasses: 4, width: 0.125 })],
    ["mobilenet_v2 ×0.25 (depthwise, ReLU6)", zooGraph("mobilenet_v2", { imgsz: 32, numClasses: 4, width: 0.25 })],
  ])("%s", async (_name, graph) => {
    const model = compile(graph, 32);
    const bytes = await exportOnnx(model, graph, { ...base(4, 32), dynamicBatch: true });
    expect(await parity(model, bytes)).toBeLessThanOrEqual(1e-4);
  });

  it.each([12, 13, 17])("mixed graph (Concat/Upsample/Slice/SiLU/LeakyReLU/pools) at opset %i", async (opset) => {
    const model = compile(mixed, 32);
    const bytes = await exportOnnx(model, mixed, { ...base(5, 32), opset, dynamicBatch: true });
    expect(decodeModel(bytes).opset_import[0].version).toBe(opset);
    expect(await parity(model, bytes)).toBeLessThanOrEqual(1e-4);
  });
});

// Tolerances on class probabilities. fp16 weights: ~1e-3 measured on the BN resnet, 5e-3 allowed.
// Weight-only int8 (symmetric, per channel or per tensor): 2e-3..3.5e-2 measured, 5e-2 allowed.
describe("ONNX export options", () => {
  const graph = zooGraph("resnet18", { imgsz: 32, numClasses: 4, width: 0.125 });
  let model: tf.LayersModel;
  beforeAll(() => {
    model = compile(graph, 32);
  });

  it("half stores FLOAT16 weights and stays within 5e-3 of TF.js", async () => {
    const bytes = await exportOnnx(model, graph, { ...base(4, 32), half: true, dynamicBatch: true });
    const types = new Set(decodeModel(bytes).graph.initializer.filter((t) => t.dims.length === 4).map((t) => t.data_type));
    expect(types).toEqual(new Set([TensorDataType.FLOAT16]));
    expect(await parity(model, bytes)).toBeLessThanOrEqual(5e-3);
  });

  it.each([true, false])("int8 (per-channel %s) stores INT8 kernels and stays within 5e-2 of TF.js", async (perChannel) => {
    const fp32 = await exportOnnx(model, graph, base(4, 32));
    const bytes = await exportOnnx(model, graph, { ...base(4, 32), int8: true, int8PerChannel: perChannel, dynamicBatch: true });
    const kernels = decodeModel(bytes).graph.initializer.filter((t) => t.dims.length === 4);
    expect(new Set(kernels.map((t) => t.data_type))).toEqual(new Set([TensorDataType.INT8]));
    expect(bytes.length).toBeLessThan(fp32.length / 2);
    expect(await parity(model, bytes)).toBeLessThanOrEqual(5e-2);
  });

  it("a dynamic batch axis runs batch 1 and 3 from one file; a fixed one refuses 3", async () => {
    const dynamic = await exportOnnx(model, graph, { ...base(4, 32), dynamicBatch: true });
    expect(await parity(model, dynamic, 1)).toBeLessThanOrEqual(1e-4);
    expect(await parity(model, dynamic, 3)).toBeLessThanOrEqual(1e-4);
    const fixed = await loadOnnxSession(await exportOnnx(model, graph, base(4, 32)));
    expect(fixed.inputShape).toEqual([1, 3, 32, 32]);
    await expect(fixed.run(new Float32Array(3 * 3 * 32 * 32), [3, 3, 32, 32])).rejects.toThrow(/dimension/i);
    await fixed.release();
  });

  it("writes Ultralytics-style metadata", async () => {
    const bytes = await exportOnnx(model, graph, { classNames: ["cat", "dog", "eel", "fox"], task: "classify", imgsz: 32, metadata: { author: "team" } });
    const session = await loadOnnxSession(bytes);
    expect(session.metadata).toMatchObject({ names: '{"0":"cat","1":"dog","2":"eel","3":"fox"}', task: "classify", imgsz: "[32,32]", author: "team" });
    expect(session.inputName).toBe("images");
    expect(session.outputNames).toEqual(["output0"]);
    await session.release();
  });

  it("rejects unsupported requests with the supported choices", async () => {
    await expect(exportOnnx(model, graph, { ...base(4, 32), opset: 11 })).rejects.toThrow("opset 11 is not supported; supported opsets: 12, 13, 14, 15, 16, 17");
    await expect(exportOnnx(model, graph, { ...base(4, 32), opset: 18 })).rejects.toThrow(/supported opsets: 12, 13, 14, 15, 16, 17/);
    await expect(exportOnnx(model, graph, { ...base(4, 32), opset: 12, int8: true })).rejects.toThrow("int8 weights need opset 13");
    await expect(exportOnnx(model, graph, { ...base(4, 32), half: true, int8: true })).rejects.toThrow("either half");
    await expect(exportOnnx(model, graph, base(3, 32))).rejects.toThrow("vector of 3 classes");
    await expect(exportOnnx(model, graph, base(4, 64))).rejects.toThrow("imgsz 64x64 does not match the model input 32x32");
    const other = zooGraph("reference-cnn", { imgsz: 32, numClasses: 4 });
    await expect(exportOnnx(model, other, base(4, 32))).rejects.toThrow('the model has no layer "conv1"');
  });
});

describe("float32ToFloat16Bits", () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [1e6, 0x7c00],
    [5.960464477539063e-8, 0x0001],
    [0.333251953125, 0x3555],
  ])("%f → %i", (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });
});
