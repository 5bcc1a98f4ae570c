// Per layer type: the ONNX training graph's loss, gradients and moving statistics equal the TF.js
// engine's on the same weights and batch (1e-4 of each tensor's largest value), for every
// formulation the graph may choose.
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/index";
import type { ModelGraph } from "../graph/index";
import { zooGraph } from "../zoo/index";
import { nchwcBlockSize } from "./nchwc";
import { buildTrainingGraph } from "./train-graph";
import { fillDropoutMask } from "./trainer";
import { chain, expectParity, TOLERANCE } from "./testing/expect-parity";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("ONNX training graph gradients equal the TF.js engine's", () => {
  it("reference-cnn (Conv2d + bias + ReLU, MaxPool, GlobalAvgPool, Dense), every formulation", async () => {
    const { worst, forms } = await expectParity({ graph: zooGraph("reference-cnn", { imgsz: 32, numClasses: 5 }), imgsz: 32, batch: 4, numClasses: 5 });
    // ONNX Runtime's NCHWc kernels (x86 CPUs): the blocked forward and input-gradient convolutions too.
    const nchwc = (await nchwcBlockSize()) > 0 ? ["conv-dx:flip_nchwc", "conv-fwd:nchw", "conv-fwd:nchwc"] : ["conv-fwd:nchw"];
    const expected = ["conv-dw:conv", "conv-dw:gemm", "conv-dw:im2col", "conv-dw:nhwc", "conv-dw:tap", "conv-dw:tap_batch", "conv-dx:convT", "conv-dx:flip", ...nchwc, "maxpool:rows", "maxpool:s2d", "maxpool:unpool"];
    expect(forms).toEqual(expected.sort());
    expect(worst).toBeLessThan(TOLERANCE);
  });

  it("convolutions on NCHWc kernels whose channels are not whole blocks (zero-padded filters and activations)", async () => {
    const graph = chain([
      ["Conv2d", { filters: 12, kernel_size: 3, activation: "relu" }],
      ["Conv2d", { filters: 20, kernel_size: 3, activation: "relu" }],
      ["Conv2d", { filters: 5, kernel_size: 3, dilation: 2, padding: 2 }],
      ["GlobalAvgPool"],
      ["Dense", { units: 3 }],
    ]);
    const { forms } = await expectParity({ graph, imgsz: 9, batch: 2, numClasses: 3 });
    if ((await nchwcBlockSize()) > 0) expect(forms).toEqual(expect.arrayContaining(["conv-fwd:nchwc", "conv-dx:flip_nchwc"]));
  });

  it("strided and padded convolutions without bias, BatchNorm (training mode), SiLU", async () => {
    const graph = chain([
      ["Conv2d", { filters: 8, kernel_size: 3, stride: 2, bias: false }],
      ["BatchNorm", { momentum: 0.9 }],
      ["SiLU"],
      ["Conv2d", { filters: 6, kernel_size: 5, padding: 1, bias: false }],
      ["BatchNorm", { eps: 1e-3, momentum: 0.97 }],
      ["SiLU"],
      ["Conv2d", { filters: 6, kernel_size: 1, stride: 2, padding: "valid", activation: "silu" }],
      // (TF.js 4.22 computes zeros for non-square kernels at stride 2 with 'same' padding, so not [3, 1] here.)
      ["Conv2d", { filters: 4, kernel_size: [3, 1], activation: "relu" }],
      ["Conv2d", { filters: 4, kernel_size: 3, stride: [1, 2], activation: "relu" }],
      ["GlobalAvgPool"],
      ["Dense", { units: 3 }],
    ]);
    await expectParity({ graph, imgsz: 17, batch: 3, numClasses: 3 });
  });

  it("Flatten, Dense with activations, BatchNorm on vectors, ReLU6, Tanh, Sigmoid, LeakyReLU", async () => {
    const graph = chain([
      ["Conv2d", { filters: 4, kernel_size: 3, activation: "tanh" }],
      ["MaxPool", { kernel_size: 2 }],
      ["LeakyReLU", { alpha: 0.1 }],
      ["Flatten"],
      ["Dense", { units: 12, activation: "sigmoid" }],
      ["BatchNorm"],
      ["ReLU6"],
      ["Dense", { units: 4 }],
    ]);
    await expectParity({ graph, imgsz: 8, batch: 5, numClasses: 4 });
  });

  it("overlapping MaxPool with 'same' padding (ResNet stem) and a ReLU folded into a pool", async () => {
    const graph = chain([
      ["Conv2d", { filters: 8, kernel_size: 7, stride: 2, bias: false }],
      ["BatchNorm"],
      ["ReLU"],
      ["MaxPool", { kernel_size: 3, stride: 2, padding: "same" }],
      ["Conv2d", { filters: 8, kernel_size: 3 }],
      ["ReLU"],
      ["MaxPool", { kernel_size: 2 }],
      ["GlobalAvgPool"],
      ["Dense", { units: 3 }],
    ]);
    await expectParity({ graph, imgsz: 30, batch: 2, numClasses: 3 });
  });

  it("label smoothing, and a classifier ending in Softmax (probabilities)", async () => {
    const graph = chain([["Conv2d", { filters: 4, kernel_size: 3, activation: "relu" }], ["GlobalAvgPool"], ["Dense", { units: 3 }], ["Softmax"]]);
    await expectParity({ graph, imgsz: 8, batch: 4, numClasses: 3, labelSmoothing: 0.1 }, { probabilities: true });
    await expectParity({ graph: zooGraph("reference-cnn", { imgsz: 32, numClasses: 4 }), imgsz: 32, batch: 2, numClasses: 4, labelSmoothing: 0.2 });
  });

  it("residual Add (ResNet basic block with a projection shortcut), gradients summed over both paths", async () => {
    const graph: ModelGraph = {
      nodes: [
        { id: "input", type: "Input" },
        { id: "stem", type: "Conv2d", data: { filters: 8, kernel_size: 3, stride: 2, bias: false } },
        { id: "stem_bn", type: "BatchNorm" },
        { id: "stem_relu", type: "ReLU" },
        { id: "a", type: "Conv2d", data: { filters: 16, kernel_size: 3, stride: 2, bias: false } },
        { id: "a_bn", type: "BatchNorm" },
        { id: "a_relu", type: "ReLU" },
        { id: "b", type: "Conv2d", data: { filters: 16, kernel_size: 3, bias: false } },
        { id: "b_bn", type: "BatchNorm" },
        { id: "down", type: "Conv2d", data: { filters: 16, kernel_size: 1, stride: 2, bias: false } },
        { id: "down_bn", type: "BatchNorm" },
        { id: "sum", type: "Add" },
        { id: "out", type: "ReLU" },
        { id: "sum2", type: "Add" },
        { id: "gap", type: "GlobalAvgPool" },
        { id: "fc", type: "Dense", data: { units: 3 } },
      ],
      edges: [
        ["input", "stem"], ["stem", "stem_bn"], ["stem_bn", "stem_relu"], ["stem_relu", "a"], ["a", "a_bn"], ["a_bn", "a_relu"],
        ["a_relu", "b"], ["b", "b_bn"], ["stem_relu", "down"], ["down", "down_bn"], ["b_bn", "sum"], ["down_bn", "sum"],
        ["sum", "out"], ["out", "sum2"], ["a_relu", "sum2"], ["sum2", "gap"], ["gap", "fc"],
      ].map(([source, target]) => ({ source, target })),
    };
    await expectParity({ graph, imgsz: 16, batch: 3, numClasses: 3 });
  });

  it("depthwise convolutions (multiplier 1 and 2, strides 1 and 2, as DepthwiseConv2d and as Conv2d groups)", async () => {
    const graph = chain([
      ["Conv2d", { filters: 8, kernel_size: 3, stride: 2, bias: false }],
      ["DepthwiseConv2d", { kernel_size: 3, bias: false }],
      ["BatchNorm"],
      ["ReLU6"],
      ["DepthwiseConv2d", { kernel_size: 3, stride: 2, depth_multiplier: 2, activation: "relu" }],
      ["Conv2d", { filters: 16, groups: 16, kernel_size: 5, padding: 2, activation: "silu" }],
      ["Conv2d", { filters: 16, groups: 16, kernel_size: 3, stride: 2, bias: false }],
      ["GlobalAvgPool"],
      ["Dense", { units: 3 }],
    ]);
    const { forms } = await expectParity({ graph, imgsz: 20, batch: 2, numClasses: 3 });
    expect(forms).toEqual(expect.arrayContaining(["conv-dw:depthwise_tap", "conv-dw:depthwise_conv", "conv-dx:flip", "conv-dx:convT"]));
  });

  it("C2f-style Slice + Concat, SPPF-style overlapping MaxPools, Upsample (Resize), ZeroPadding", async () => {
    const graph: ModelGraph = {
      nodes: [
        { id: "input", type: "Input" },
        { id: "stem", type: "Conv2d", data: { filters: 8, kernel_size: 3, stride: 2, activation: "silu" } },
        { id: "lo", type: "Slice", data: { start: 0, end: 4 } },
        { id: "hi", type: "Slice", data: { start: 4, end: 8 } },
        { id: "m", type: "Conv2d", data: { filters: 4, kernel_size: 3, activation: "silu" } },
        { id: "cat", type: "Concat" },
        { id: "p1", type: "MaxPool", data: { kernel_size: 5, stride: 1, padding: "same" } },
        { id: "p2", type: "MaxPool", data: { kernel_size: 5, stride: 1, padding: "same" } },
        { id: "sppf", type: "Concat" },
        { id: "down", type: "Conv2d", data: { filters: 6, kernel_size: 3, stride: 2, activation: "silu" } },
        { id: "up", type: "Upsample", data: { scale: 2 } },
        { id: "pad", type: "ZeroPadding", data: { padding: [1, 0, 2, 1] } },
        { id: "head", type: "Conv2d", data: { filters: 5, kernel_size: [2, 4], padding: "valid", activation: "silu" } },
        { id: "gap", type: "GlobalAvgPool" },
        { id: "fc", type: "Dense", data: { units: 4 } },
      ],
      edges: [
        ["input", "stem"], ["stem", "lo"], ["stem", "hi"], ["hi", "m"], ["lo", "cat"], ["hi", "cat"], ["m", "cat"],
        ["cat", "p1"], ["p1", "p2"], ["cat", "sppf"], ["p1", "sppf"], ["p2", "sppf"], ["sppf", "down"], ["down", "up"],
        ["up", "pad"], ["pad", "head"], ["head", "gap"], ["gap", "fc"],
      ].map(([source, target]) => ({ source, target })),
    };
    await expectParity({ graph, imgsz: 16, batch: 2, numClasses: 4 });
  });

  it("resnet18 (width 0.25) as the zoo builds it: every gradient and moving statistic", async () => {
    // (mobilenet_v2's layer types are covered above; the whole zoo network is not compared: at init most of
    // its deep channels have ~0 variance, so BatchNorm normalises float noise and TF.js's own gradients move
    // by >1e-2 under a 1e-7 perturbation of the weights.)
    await expectParity({ graph: zooGraph("resnet18", { imgsz: 64, numClasses: 3, width: 0.25 }), imgsz: 64, batch: 4, numClasses: 3 }, { everyForm: false });
  });

  it("Dropout: identity at rate 0; otherwise the fed mask scales forward and backward alike", async () => {
    const graph = chain([["Conv2d", { filters: 4, kernel_size: 3, activation: "relu" }], ["GlobalAvgPool"], ["Dropout", { rate: 0 }], ["Dense", { units: 3 }]]);
    await expectParity({ graph, imgsz: 8, batch: 4, numClasses: 3 });
    const dropped = chain([["GlobalAvgPool"], ["Dropout", { rate: 0.5 }], ["Dense", { units: 2, bias: false }]]);
    const io = buildTrainingGraph({
      graph: dropped,
      inputShape: [2, 2, 3],
      batch: 2,
      weights: [{ name: "n2/kernel", shape: [3, 2], trainable: true }],
      loss: { kind: "classify", numClasses: 2, probabilities: false },
    });
    expect(io.masks).toEqual([{ input: "mask:n1", dims: [2, 3], rate: 0.5 }]);
    const mask = new Float32Array(6);
    fillDropoutMask(mask, 0.5, 7);
    expect(new Set(mask)).toEqual(new Set([0, 2]));
    const big = new Float32Array(10000);
    fillDropoutMask(big, 0.2, 3);
    expect(big.filter((v) => v === 0).length / big.length).toBeCloseTo(0.2, 1);
    expect(big.reduce((a, b) => a + b, 0) / big.length).toBeCloseTo(1, 1);
  });
});
