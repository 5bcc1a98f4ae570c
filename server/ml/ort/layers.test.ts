// Layer types beyond the reference CNN and ResNet: average pooling (every padding mode), grouped
// and dilated convolutions — gradients equal the TF.js engine's, for every formulation; a layer
// type without emitters is named, and such a model trains on TF.js instead.
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/index";
import { z } from "zod";
import { layerTypeNames, registerLayerType } from "../graph/registry";
import "../detect/head";
import { trainingEmitterTypes } from "./emitter";
import { ortTrainingSupport } from "./train-graph";
import { chain, expectParity } from "./testing/expect-parity";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("ONNX training graphs of more layer types equal the TF.js engine's gradients", () => {
  it("AvgPool: explicit padding (zeros counted), TF's 'same' (real pixels only), valid, and tiles (Resize)", async () => {
    const graph = chain([
      ["Conv2d", { filters: 4, kernel_size: 3, activation: "silu" }],
      ["AvgPool", { kernel_size: 3, stride: 2, padding: 1 }],
      ["Conv2d", { filters: 4, kernel_size: 3, activation: "relu" }],
      ["AvgPool", { kernel_size: 3, stride: 2, padding: "same" }],
      ["Conv2d", { filters: 6, kernel_size: 1, activation: "tanh" }],
      ["AvgPool", { kernel_size: 2 }],
      ["AvgPool", { kernel_size: 2, stride: 1 }],
      ["Flatten"],
      ["Dense", { units: 3 }],
    ]);
    const { forms } = await expectParity({ graph, imgsz: 23, batch: 2, numClasses: 3 });
    expect(forms).toEqual(expect.arrayContaining(["avgpool:convT", "avgpool:resize"]));
  });

  it("grouped convolutions (2 and 4 groups, bias, stride 2, a fused activation)", async () => {
    const graph = chain([
      ["Conv2d", { filters: 8, kernel_size: 3, stride: 2, activation: "relu" }],
      ["Conv2d", { filters: 12, kernel_size: 3, groups: 2, activation: "silu" }],
      ["BatchNorm"],
      ["Conv2d", { filters: 8, kernel_size: 3, stride: 2, groups: 4, bias: false }],
      ["GlobalAvgPool"],
      ["Dense", { units: 3 }],
    ]);
    const { forms } = await expectParity({ graph, imgsz: 14, batch: 3, numClasses: 3 });
    expect(forms).toEqual(expect.arrayContaining(["conv-dw:im2col", "conv-dw:tap", "conv-dw:nhwc", "conv-dw:conv", "conv-dx:flip", "conv-dx:convT"]));
  });

  it("dilated convolutions: plain, grouped (explicit and 'same' padding) and depthwise against TF.js", async () => {
    const plain = chain([
      ["Conv2d", { filters: 6, kernel_size: 3, dilation: 2, padding: 2, activation: "relu" }],
      ["Conv2d", { filters: 6, kernel_size: 3, dilation: 3, padding: "same", bias: false }],
      ["Conv2d", { filters: 6, kernel_size: [3, 2], dilation: [1, 2], groups: 3, padding: "valid" }],
      ["GlobalAvgPool"],
      ["Dense", { units: 3 }],
    ]);
    const { forms } = await expectParity({ graph: plain, imgsz: 15, batch: 2, numClasses: 3 });
    expect(forms).toEqual(expect.arrayContaining(["conv-dw:im2col", "conv-dw:tap", "conv-dw:nhwc", "conv-dw:conv", "conv-dx:flip", "conv-dx:convT"]));
    const depthwise = chain([["Conv2d", { filters: 4, kernel_size: 1 }], ["DepthwiseConv2d", { kernel_size: 3, dilation: 2, activation: "silu" }], ["GlobalAvgPool"], ["Dense", { units: 3 }]]);
    const more = await expectParity({ graph: depthwise, imgsz: 13, batch: 2, numClasses: 3 });
    expect(more.forms).toEqual(expect.arrayContaining(["conv-dw:depthwise_tap", "conv-dw:depthwise_conv"]));
  });

  it("mobilenet_v2's block (expand, depthwise stride 2, linear project) as the zoo builds it", async () => {
    // Without the depthwise conv's BatchNorm: it makes the loss invariant to the scale of the expand
    // BatchNorm's channels, whose γ gradients are then ~1e-5 of the others, float noise.
    const graph = chain([
      ["Conv2d", { filters: 8, kernel_size: 3, stride: 2, padding: 1, bias: false }],
      ["BatchNorm"],
      ["ReLU6"],
      ["Conv2d", { filters: 24, kernel_size: 1, bias: false }],
      ["BatchNorm"],
      ["ReLU6"],
      ["DepthwiseConv2d", { kernel_size: 3, stride: 2, padding: 1, bias: false }],
      ["ReLU6"],
      ["Conv2d", { filters: 8, kernel_size: 1, bias: false }],
      ["BatchNorm"],
      ["GlobalAvgPool"],
      ["Dropout", { rate: 0 }],
      ["Dense", { units: 3 }],
    ]);
    await expectParity({ graph, imgsz: 16, batch: 4, numClasses: 3 });
  });
});

describe("layer types without training emitters", () => {
  it("every layer type of the registry has one", () => {
    expect(layerTypeNames().filter((type) => !trainingEmitterTypes().includes(type))).toEqual([]);
  });

  it("a graph with a node type nobody wrote emitters for is refused, naming the node and its type", () => {
    registerLayerType({
      type: "TestOnlyIdentity",
      category: "shape",
      description: "identity (test only)",
      inputs: { min: 1, max: 1 },
      dataSchema: z.object({}),
      inferShape: ([input]) => input,
      params: () => ({ trainable: 0, nonTrainable: 0 }),
      flops: () => 0,
      build: ([input]) => input,
      toOnnx: (ctx) => ctx.inputs[0],
    });
    const graph = chain([["Conv2d", { filters: 2 }], ["TestOnlyIdentity"], ["GlobalAvgPool"], ["Dense", { units: 2 }]]);
    expect(ortTrainingSupport(graph, [8, 8, 3])).toBe('layer type TestOnlyIdentity (node "n1") has no ONNX training emitter yet');
  });
});
