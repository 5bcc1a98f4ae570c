import { readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/index";
import { compileGraph } from "../graph/compile";
import type { ModelGraph } from "../graph/schema";
import "../graph/layers";
import { GraphBuilder } from "../zoo/builder";
import { zooGraph } from "../zoo";
import { resnet } from "../zoo/resnet";
import { loadTorchTensors, torchNamerForZooModel, withTorchBatchNorms } from "./torch-to-graph";
import type { ModuleNamer } from "./torch-to-graph";
import { readTorchCheckpoint } from "./torch-zip";
import type { LoadedTensor } from "./torch-zip";

const fixture = (name: string) => path.join(import.meta.dirname, "fixtures", name);

beforeAll(async () => {
  await initBackend("wasm");
  await tf.setBackend("cpu");
});

/** The zoo's layer names with PyTorch's explicit symmetric padding (k // 2), as the fixtures' networks use. */
function convBn(g: GraphBuilder, id: string, input: string, filters: number, kernel: number, stride: number, activation: "ReLU" | "ReLU6" | null, depthwise = false) {
  const type = depthwise ? "DepthwiseConv2d" : "Conv2d";
  const conv = g.add(`${id}_conv`, type, [input], { ...(depthwise ? {} : { filters }), kernel_size: kernel, stride, padding: Math.floor(kernel / 2), bias: false });
  const bn = g.add(`${id}_bn`, "BatchNorm", [conv]);
  return activation ? g.add(`${id}_${activation.toLowerCase()}`, activation, [bn]) : bn;
}

function miniResnet(classes: number) {
  const g = new GraphBuilder();
  let x = convBn(g, "stem", g.add("input", "Input", []), 8, 7, 2, "ReLU");
  for (const [id, channels, filters, stride] of [["layer1_0", 8, 8, 1], ["layer2_0", 8, 16, 2]] as const) {
    const a = convBn(g, `${id}_1`, x, filters, 3, stride, "ReLU");
    const b = convBn(g, `${id}_2`, a, filters, 3, 1, null);
    const shortcut = stride !== 1 || channels !== filters ? convBn(g, `${id}_down`, x, filters, 1, stride, null) : x;
    x = g.add(`${id}_out`, "ReLU", [g.add(`${id}_add`, "Add", [b, shortcut])]);
  }
  g.add("fc", "Dense", [g.add("gap", "GlobalAvgPool", [x])], { units: classes });
  return g.graph();
}

function miniMobilenetV2(classes: number) {
  const g = new GraphBuilder();
  let x = convBn(g, "stem", g.add("input", "Input", []), 8, 3, 2, "ReLU6");
  for (const [index, expansion, stride] of [[0, 1, 1], [1, 2, 2], [2, 2, 1]]) {
    const id = `block${index}`;
    let y = expansion === 1 ? x : convBn(g, `${id}_expand`, x, 8 * expansion, 1, 1, "ReLU6");
    y = convBn(g, `${id}_dw`, y, 0, 3, stride, "ReLU6", true);
    y = convBn(g, `${id}_project`, y, 8, 1, 1, null);
    x = stride === 1 ? g.add(`${id}_add`, "Add", [x, y]) : y;
  }
  x = convBn(g, "head", x, 16, 1, 1, "ReLU6");
  g.add("fc", "Dense", [g.add("dropout", "Dropout", [g.add("gap", "GlobalAvgPool", [x])], { rate: 0.2 })], { units: classes });
  return g.graph();
}

interface Expected {
  input_nchw: [number, number, number, number];
  input: number[];
  output: number[];
}

async function predictNchw(model: tf.LayersModel, expected: Expected): Promise<number[]> {
  const [n, c, h, w] = expected.input_nchw;
  const input = tf.tidy(() => tf.transpose(tf.tensor4d(expected.input, [n, c, h, w]), [0, 2, 3, 1]));
  const output = model.predict(input) as tf.Tensor;
  const values = Array.from(await output.data());
  tf.dispose([input, output]);
  return values;
}

function relativeError(actual: number[], expected: number[]): number {
  const scale = Math.max(...expected.map(Math.abs));
  return Math.max(...actual.map((v, i) => Math.abs(v - expected[i]))) / scale;
}

describe.each([
  { name: "resnet", graph: miniResnet, namer: torchNamerForZooModel("resnet18")! },
  { name: "mobilenet_v2", graph: miniMobilenetV2, namer: torchNamerForZooModel("mobilenet_v2")! },
])("a torchvision-style $name state dict", ({ name, graph, namer }) => {
  it("loads every tensor by module name and gives PyTorch's outputs to 1e-4", async () => {
    const checkpoint = await readTorchCheckpoint(fixture(`parity_${name}.pt`));
    const expected: Expected = JSON.parse(await readFile(fixture(`parity_${name}.expected.json`), "utf8"));
    const model = compileGraph(graph(3), { inputShape: [12, 12, 3] });
    const report = loadTorchTensors(model, checkpoint.tensors, namer);
    expect(report.skipped).toEqual([]);
    expect(report.unused).toEqual([]);
    expect(report.transferred.sort()).toEqual([...checkpoint.tensors.keys()].filter((n) => !n.endsWith("num_batches_tracked")).sort());
    const output = await predictNchw(model, expected);
    expect(output).toHaveLength(expected.output.length);
    expect(relativeError(output, expected.output)).toBeLessThan(1e-4);
    model.dispose();
  });
});

/** A zoo graph with TF's 'same' padding everywhere, as the zoo built them before it padded like PyTorch. */
function withSamePadding(graph: ModelGraph): ModelGraph {
  return { ...graph, nodes: graph.nodes.map((n) => (n.data && "padding" in n.data ? { ...n, data: { ...n.data, padding: "same" } } : n)) };
}

/** The zoo graph loaded from a fixture's fp16 state dict: its report and its relative error on the fixture's input. */
async function zooParity(fixtureName: string, graph: ModelGraph, namer: ModuleNamer) {
  const checkpoint = await readTorchCheckpoint(fixture(`${fixtureName}.pt`));
  const expected: Expected = JSON.parse(await readFile(fixture(`${fixtureName}.expected.json`), "utf8"));
  const [, , h, w] = expected.input_nchw;
  const count = expected.input_nchw.reduce((a, b) => a * b, 1);
  // make_fixtures.py zoo_input: sin(0.37·i) over the NCHW flat index, rounded to float32.
  const input = Array.from({ length: count }, (_, i) => Math.fround(Math.sin(i * 0.37)));
  const model = compileGraph(graph, { inputShape: [h, w, 3] });
  const report = loadTorchTensors(model, checkpoint.tensors, namer);
  const output = await predictNchw(model, { ...expected, input });
  model.dispose();
  expect(output).toHaveLength(expected.output.length);
  return { checkpoint, report, error: relativeError(output, expected.output) };
}

// The fixtures' input is 64×64: every stride-2 window sees PyTorch's padding on an even size, where
// TF's 'same' would pad only at the bottom and right.
describe("the zoo's own builders give PyTorch's outputs at an even size (64×64), from fp16 state dicts", () => {
  const cases = [
    { label: "resnet18 (1 block per stage, width 1/16; stem max pool)", fixture: "zoo_resnet_fp16", zoo: "resnet18", graph: () => resnet([1, 1, 1, 1], 3, 1 / 16) },
    { label: "mobilenet_v2 (width 0.1)", fixture: "zoo_mobilenet_v2_fp16", zoo: "mobilenet_v2", graph: () => zooGraph("mobilenet_v2", { imgsz: 64, numClasses: 3, width: 0.1 }) },
    { label: "yolov8n (width 0.125, 2 classes; raw head output)", fixture: "zoo_yolov8_fp16", zoo: "yolov8n", graph: () => zooGraph("yolov8n", { imgsz: 64, numClasses: 2, width: 0.125 }) },
  ];

  it.each(cases)("$label to 1e-4 relative, on the CPU and WASM backends", async ({ fixture: name, zoo, graph }) => {
    const namer = torchNamerForZooModel(zoo)!;
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      const { checkpoint, report, error } = await zooParity(name, graph(), namer);
      expect(checkpoint.tensors.get(checkpoint.tensors.keys().next().value!)!.dtype).toBe("float16");
      expect(report.skipped).toEqual([]);
      // The DFL conv's fixed weights are decoded outside the graph.
      expect(report.unused).toEqual(zoo === "yolov8n" ? ["model.22.dfl.conv.weight"] : []);
      expect(error, backend).toBeLessThan(1e-4);
    }
    await tf.setBackend("cpu");
  });

  it.each(cases)("$label: TF's 'same' padding would miss by more than 1%", async ({ fixture: name, zoo, graph }) => {
    const { error } = await zooParity(name, withSamePadding(graph()), torchNamerForZooModel(zoo)!);
    expect(error).toBeGreaterThan(0.01);
  });
});

describe("the zoo's yolov8n and Ultralytics' state dict", () => {
  it("yolov8n takes every tensor of Ultralytics' yolov8n state dict, by name and shape, except the fixed DFL conv", async () => {
    const shapes: Record<string, number[]> = JSON.parse(await readFile(fixture("yolov8n_state_dict_shapes.json"), "utf8"));
    const tensors = new Map<string, LoadedTensor>(
      Object.entries(shapes).map(([name, shape]) => {
        const count = shape.reduce((a, b) => a * b, 1);
        const data = name.endsWith("num_batches_tracked") ? new BigInt64Array(count) : new Float32Array(count);
        return [name, { dtype: name.endsWith("num_batches_tracked") ? "int64" : "float32", shape, data }];
      }),
    );
    const model = compileGraph(zooGraph("yolov8n", { imgsz: 64, numClasses: 80 }), { inputShape: [64, 64, 3] });
    const report = loadTorchTensors(model, tensors, torchNamerForZooModel("yolov8n")!);
    expect(report.skipped).toEqual([]);
    expect(report.unused).toEqual(["model.22.dfl.conv.weight"]);
    const batchNormCount = Object.keys(shapes).filter((n) => n.endsWith("num_batches_tracked")).length;
    expect(report.transferred).toHaveLength(Object.keys(shapes).length - batchNormCount - 1);
    model.dispose();
  });
});

describe("loadTorchTensors reports what does not fit", () => {
  it("names a tensor of the wrong shape and a missing one, leaves those layers and loads the rest", async () => {
    const { tensors } = await readTorchCheckpoint(fixture("parity_resnet.pt"));
    const partial = new Map(tensors);
    partial.delete("layer1.0.conv1.weight");
    const model = compileGraph(miniResnet(5), { inputShape: [12, 12, 3] });
    const fcBefore = model.getLayer("fc").getWeights().map((w) => Array.from(w.dataSync()));
    const report = loadTorchTensors(model, partial, torchNamerForZooModel("resnet18")!);
    expect(report.skipped).toEqual([
      { layer: "layer1_0_1_conv", reason: "layer1.0.conv1.weight is missing" },
      { layer: "fc", reason: "fc.weight is [3, 16], the model needs [5, 16]" },
    ]);
    expect(report.unused.sort()).toEqual(["fc.bias", "fc.weight"]);
    expect(report.transferred).toContain("layer2.0.downsample.1.running_var");
    expect(model.getLayer("fc").getWeights().map((w) => Array.from(w.dataSync()))).toEqual(fcBefore);
    model.dispose();
  });

  it("reports layers its namer does not know", async () => {
    const { tensors } = await readTorchCheckpoint(fixture("parity_resnet.pt"));
    const onlyStem: ModuleNamer = (layer) => (layer === "stem_conv" ? "conv1" : null);
    const model = compileGraph(miniResnet(3), { inputShape: [12, 12, 3] });
    const report = loadTorchTensors(model, tensors, onlyStem);
    expect(report.transferred).toEqual(["conv1.weight"]);
    expect(report.skipped).toContainEqual({ layer: "stem_bn", reason: "no PyTorch module corresponds to this layer" });
    model.dispose();
  });
});

describe("zoo namers", () => {
  it("name YOLOv8 layers as Ultralytics' modules", () => {
    const name = torchNamerForZooModel("yolov8n")!;
    const none = new Set<string>();
    expect(name("b0_conv", none)).toBe("model.0.conv");
    expect(name("b2_m0_cv1_bn", none)).toBe("model.2.m.0.cv1.bn");
    expect(name("b9_cv2_conv", none)).toBe("model.9.cv2.conv");
    expect(name("h21_m0_cv2_conv", none)).toBe("model.21.m.0.cv2.conv");
    expect(name("detect_box0_0", none)).toBe("model.22.cv2.0.0.conv");
    expect(name("detect_cls2_1_bn", none)).toBe("model.22.cv3.2.1.bn");
    expect(name("detect_box1_pred", none)).toBe("model.22.cv2.1.2");
  });

  it("name torchvision ResNet and MobileNetV2 modules", () => {
    const resnet = torchNamerForZooModel("resnet34")!;
    expect(resnet("layer3_5_2_bn", new Set())).toBe("layer3.5.bn2");
    expect(resnet("layer2_0_down_conv", new Set())).toBe("layer2.0.downsample.0");
    const graph = zooGraph("mobilenet_v2", { imgsz: 32, numClasses: 10 });
    const layers = new Set(graph.nodes.map((n) => n.id));
    const mobilenet = torchNamerForZooModel("mobilenet_v2")!;
    expect(mobilenet("block0_project_bn", layers)).toBe("features.1.conv.2");
    expect(mobilenet("block1_dw_conv", layers)).toBe("features.2.conv.1.0");
    expect(mobilenet("block16_project_conv", layers)).toBe("features.17.conv.2");
    expect(mobilenet("head_bn", layers)).toBe("features.18.1");
    expect(mobilenet("fc", layers)).toBe("classifier.1");
  });
});

describe("withTorchBatchNorms", () => {
  it("takes each BatchNorm's eps and momentum (PyTorch's sense) from the checkpoint", () => {
    const graph = withTorchBatchNorms(miniResnet(3), { bn1: { eps: 1e-3, momentum: 0.03 }, "layer1.0.bn2": { eps: 2e-5, momentum: null } }, torchNamerForZooModel("resnet18")!);
    expect(graph.nodes.find((n) => n.id === "stem_bn")!.data).toEqual({ eps: 1e-3, momentum: 0.97 });
    expect(graph.nodes.find((n) => n.id === "layer1_0_2_bn")!.data).toEqual({ eps: 2e-5 });
    expect(graph.nodes.find((n) => n.id === "layer2_0_1_bn")!.data).toEqual({});
  });
});
