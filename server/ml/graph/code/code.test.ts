import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { zooTemplateGraph } from "../../zoo/templates";
import { analyzeGraph, type ModelGraph } from "../index";
import { graphToPytorch } from "./pytorch";
import { graphToTfjs } from "./tfjs";

/** Grouped conv, PyTorch padding at stride 2 on an even size (a pad in front), explicit max/avg pool padding. */
const odd: ModelGraph = {
  nodes: [
    { id: "in", type: "Input" },
    { id: "c1", type: "Conv2d", data: { filters: 8, kernel_size: 3, stride: 2, padding: 1, activation: "relu" } },
    { id: "g", type: "Conv2d", data: { filters: 8, kernel_size: 3, groups: 2, bias: false } },
    { id: "mp", type: "MaxPool", data: { kernel_size: 3, stride: 2, padding: 1 } },
    { id: "ap", type: "AvgPool", data: { kernel_size: 3, stride: 1, padding: 1 } },
    { id: "gap", type: "GlobalAvgPool" },
    { id: "fc", type: "Dense", data: { units: 3 } },
  ],
  edges: ["in", "c1", "g", "mp", "ap", "gap", "fc"].slice(1).map((target, i, all) => ({ source: i === 0 ? "in" : all[i - 1], target })),
};

/** Dilated depthwise convolutions, which TF.js's depthwiseConv2d layer would compute undilated (another output size). */
const dilatedDepthwise: ModelGraph = {
  nodes: [
    { id: "in", type: "Input" },
    { id: "c1", type: "Conv2d", data: { filters: 4, kernel_size: 3, padding: 1 } },
    { id: "dw", type: "DepthwiseConv2d", data: { kernel_size: 3, padding: 1, dilation: 2, depth_multiplier: 2 } },
    { id: "g", type: "Conv2d", data: { filters: 8, kernel_size: 3, padding: 1, dilation: 3, groups: 8 } },
  ],
  edges: ["in", "c1", "dw", "g"].slice(1).map((target, i, all) => ({ source: i === 0 ? "in" : all[i - 1], target })),
};

const cases: [string, ModelGraph, number][] = [
  ["an odd graph", odd, 32],
  ["dilated depthwise convolutions", dilatedDepthwise, 16],
  ["resnet18 (BasicBlocks)", zooTemplateGraph("resnet18", { numClasses: 4 }), 32],
  ["mobilenet_v2 (InvertedResiduals)", zooTemplateGraph("mobilenet_v2", { numClasses: 4 }), 32],
  ["yolov8n (C2f, SPPF, Detect)", zooTemplateGraph("yolov8", { numClasses: 2, scale: "n" }), 64],
];

/** Runs the generated module source and returns the model it builds. */
function runTfjs(source: string): tf.LayersModel {
  const body = source.replace(/^import .*$/m, "").replace("export function buildModel", "function buildModel");
  return new Function("tf", `${body}\nreturn buildModel();`)(tf) as tf.LayersModel;
}

const torchPython = ["/usr/bin/python3", "python3"].find((p) => {
  if (p.startsWith("/") && !existsSync(p)) return false;
  try {
    execFileSync(p, ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});

describe("code view", () => {
  for (const [label, graph, imgsz] of cases) {
    it(`TF.js source of ${label} builds a model with the graph's weights and output shape`, () => {
      const summary = analyzeGraph(graph, [imgsz, imgsz, 3]);
      const model = runTfjs(graphToTfjs(graph, { inputShape: [imgsz, imgsz, 3] }));
      try {
        expect(model.countParams()).toBe(summary.totalParams);
        expect((model.outputs[0].shape as number[]).slice(1)).toEqual(summary.outputShapes[0]);
      } finally {
        model.dispose();
      }
    });

    it.skipIf(!torchPython)(`PyTorch source of ${label} has the graph's parameters and output shape (needs python3 with torch)`, () => {
      const summary = analyzeGraph(graph, [imgsz, imgsz, 3]);
      const source = graphToPytorch(graph, { inputShape: [imgsz, imgsz, 3] });
      const script = `${source}\nm = Model().eval()\ny = m(torch.zeros(1, 3, ${imgsz}, ${imgsz}))\nprint(sum(p.numel() for p in m.parameters()), list(y.shape[1:]))`;
      const printed = execFileSync(torchPython!, ["-c", script], { encoding: "utf8" }).trim();
      const expectedShape = summary.outputShapes[0].length === 3 ? [summary.outputShapes[0][2], summary.outputShapes[0][0], summary.outputShapes[0][1]] : [...summary.outputShapes[0]].reverse();
      expect(printed).toBe(`${summary.totalTrainableParams} [${expectedShape.join(", ")}]`);
    });
  }

  it("names each block above its layers in the PyTorch source", () => {
    const source = graphToPytorch(zooTemplateGraph("yolov8", { numClasses: 2, scale: "n" }), { inputShape: [64, 64, 3] });
    expect(source).toContain("        # b2 (C2f)\n        self.b2_cv1_conv = nn.Conv2d(32, 32, kernel_size=1, stride=1, padding=0, bias=False)");
    expect(source).toContain("self.detect = DetectHead(2, (64, 128, 256), reg_max=16)");
  });
});

describe("node type catalog", () => {
  it("lists every layer and block with its fields' schemas, defaults and required flags", async () => {
    const { nodeTypeCatalog } = await import("../catalog");
    const byType = new Map(nodeTypeCatalog().map((t) => [t.type, t]));
    const conv = byType.get("Conv2d")!;
    expect(conv.category).toBe("convolution");
    expect(conv.fields.find((f) => f.name === "filters")).toMatchObject({ required: true, schema: { type: "integer", exclusiveMinimum: 0 } });
    expect(conv.fields.find((f) => f.name === "activation")!.schema).toMatchObject({ default: "linear", enum: ["linear", "relu", "relu6", "silu", "sigmoid", "tanh"] });
    expect(byType.get("C2f")).toMatchObject({ kind: "block", category: "block" });
    expect(byType.get("C2f")!.fields.map((f) => [f.name, f.schema.default])).toEqual([["filters", undefined], ["repeats", 1], ["shortcut", false], ["groups", 1], ["expansion", 0.5]]);
    expect(byType.get("ConvBlock")!.fields.find((f) => f.name === "activation")!.schema.default).toBe("silu");
  });
});
