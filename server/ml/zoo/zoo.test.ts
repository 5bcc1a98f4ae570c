import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeGraph, compileGraph } from "../graph";
import { zooGraph, zooModels } from "./index";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("zoo", () => {
  // Published counts (torchvision, 224×224, 1000 classes). PyTorch counts BatchNorm's weight and
  // bias (2 per channel), which is our totalTrainableParams; totalParams adds the moving statistics.
  it.each([
    ["resnet18", 11_689_512],
    ["resnet34", 21_797_672],
    ["mobilenet_v2", 3_504_872],
  ])("%s has the published parameter count", (name, published) => {
    const summary = analyzeGraph(zooGraph(name, { imgsz: 224, numClasses: 1000 }), [224, 224, 3]);
    expect(Math.abs(summary.totalTrainableParams - published) / published).toBeLessThan(0.01);
    expect(summary.outputShapes).toEqual([[1000]]);
  });

  it("reference-cnn is exactly conv16-pool-conv32-pool-conv64-GAP-dense", () => {
    const graph = zooGraph("reference-cnn", { imgsz: 64, numClasses: 10 });
    expect(graph.nodes.map((n) => n.type)).toEqual(["Input", "Conv2d", "MaxPool", "Conv2d", "MaxPool", "Conv2d", "GlobalAvgPool", "Dense"]);
    const summary = analyzeGraph(graph, [64, 64, 3]);
    expect(summary.totalParams).toBe(448 + 4640 + 18496 + 650);
    expect(summary.nodes.find((n) => n.id === "conv3")!.outputShape).toEqual([16, 16, 64]);
  });

  it.each([32, 33, 48, 97])("every model analyses at imgsz %i with 3 classes", (imgsz) => {
    for (const model of zooModels.filter((m) => m.task === "classify")) {
      const summary = analyzeGraph(model.graph({ imgsz, numClasses: 3 }), [imgsz, imgsz, 3]);
      expect(summary.outputShapes).toEqual([[3]]);
    }
  });

  it("narrow variants compile and match their summaries", () => {
    for (const name of ["reference-cnn", "mobilenet_v2", "resnet18"]) {
      const graph = zooGraph(name, { imgsz: 32, numClasses: 5, width: 0.25 });
      const model = compileGraph(graph, { inputShape: [32, 32, 3], seed: 0 });
      expect(model.countParams()).toBe(analyzeGraph(graph, [32, 32, 3]).totalParams);
      const out = model.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor;
      expect(out.shape).toEqual([1, 5]);
    }
  });

  it("width scales mobilenet_v2", () => {
    const params = (width: number) => analyzeGraph(zooGraph("mobilenet_v2", { imgsz: 224, numClasses: 1000, width }), [224, 224, 3]).totalTrainableParams;
    expect(params(0.5)).toBeLessThan(params(1) * 0.6);
  });

  it("rejects imgsz below 32, naming imgsz", () => {
    expect(() => zooGraph("resnet18", { imgsz: 31, numClasses: 2 })).toThrow('zoo model "resnet18": imgsz must be an integer ≥ 32, got 31');
  });

  it("lists the names for an unknown model", () => {
    expect(() => zooGraph("vgg16", { imgsz: 64, numClasses: 2 })).toThrow(/unknown zoo model "vgg16"; available: reference-cnn, mobilenet_v2, resnet18, resnet34/);
  });

  it("pads every conv and max pool as PyTorch does (k // 2; torchvision's stem pool 1, SPPF 2)", () => {
    for (const model of zooModels) {
      const graph = model.graph({ imgsz: 64, numClasses: 3 });
      for (const node of graph.nodes) {
        const data = node.data as { kernel_size?: number; padding?: unknown };
        if (node.type === "Conv2d" || node.type === "DepthwiseConv2d") expect([model.name, node.id, data.padding]).toEqual([model.name, node.id, Math.floor(data.kernel_size! / 2)]);
        if (node.type === "MaxPool") expect([model.name, node.id, data.padding]).toEqual([model.name, node.id, data.kernel_size === 2 ? undefined : Math.floor(data.kernel_size! / 2)]);
      }
    }
  });

  it("takes the weights of a graph saved with TF's 'same' padding, and computes as it did on odd sizes", async () => {
    const graph = zooGraph("resnet18", { imgsz: 33, numClasses: 3, width: 0.125 });
    const saved = { ...graph, nodes: graph.nodes.map((n) => ("padding" in (n.data ?? {}) ? { ...n, data: { ...n.data, padding: "same" } } : n)) };
    const old = compileGraph(saved, { inputShape: [33, 33, 3], seed: 3 });
    const current = compileGraph(graph, { inputShape: [33, 33, 3], seed: 4 });
    const oldWeights = new Map(old.weights.map((w) => [w.originalName, w]));
    expect(current.weights.map((w) => [w.originalName, w.shape])).toEqual(old.weights.map((w) => [w.originalName, w.shape]));
    for (const weight of current.weights) weight.write(oldWeights.get(weight.originalName)!.read());
    const x = tf.randomUniform([1, 33, 33, 3], 0, 1, "float32", 5);
    const [a, b] = [old, current].map((m) => m.predict(x) as tf.Tensor);
    const difference = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    expect(difference).toBeLessThan(1e-5);
    tf.dispose([x, a, b]);
  });
});
