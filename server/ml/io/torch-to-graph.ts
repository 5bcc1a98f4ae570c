import * as tf from "@tensorflow/tfjs";
import type { ModelGraph } from "../graph/schema";
import type { BatchNormSettings, LoadedTensor } from "./torch-zip";

/**
 * Puts PyTorch tensors into a compiled model graph by module name. A namer translates a TF.js
 * layer name (= graph node id) into the PyTorch module that holds the same weights
 * ("layer1_0_1_conv" → "layer1.0.conv1"); each layer's tensors are converted to the TF.js layout
 * (OIHW → HWIO, Linear's [out, in] → [in, out]). A layer is loaded whole or left as it was, and
 * the report names every tensor that is missing, does not fit or was not used.
 *
 * Dense layers are expected to follow GlobalAvgPool (as in the zoo): after a Flatten of a
 * feature map, PyTorch's NCHW flattening order would need a permutation this does not do.
 */

/** The PyTorch module name of a TF.js layer, or null when the layer has no PyTorch counterpart. */
export type ModuleNamer = (layerName: string, layerNames: ReadonlySet<string>) => string | null;

export interface TransferReport {
  /** Checkpoint tensors copied into the model. */
  transferred: string[];
  /** Layers with weights that were left as they were, and why (naming the tensor). */
  skipped: { layer: string; reason: string }[];
  /** Checkpoint tensors that no layer took (num_batches_tracked, which the engine does not keep, aside). */
  unused: string[];
}

interface Converted {
  torchName: string;
  values: Float32Array;
}

function floats(tensor: LoadedTensor, name: string): Float32Array {
  if (tensor.data instanceof Float32Array) return tensor.data;
  if (tensor.data instanceof Float64Array) return Float32Array.from(tensor.data);
  throw new Error(`${name} is ${tensor.dtype}, expected a floating-point tensor`);
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((n, i) => n === b[i]);

/** OIHW [O, I, kh, kw] → HWIO [kh, kw, I, O]. */
function oihwToHwio(values: Float32Array, [o, i, kh, kw]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = values[((a * i + b) * kh + y) * kw + x];
  return out;
}

/** Depthwise [C·M, 1, kh, kw] (output channel c·M + m) → TF.js [kh, kw, C, M]. */
function depthwiseToTf(values: Float32Array, [kh, kw, c, m]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let ch = 0; ch < c; ch++)
    for (let k = 0; k < m; k++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * c + ch) * m + k] = values[((ch * m + k) * kh + y) * kw + x];
  return out;
}

function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/** For one TF.js weight: the PyTorch tensor suffix, the shape PyTorch stores it in, and the conversion. */
function torchLayout(className: string, weightName: string, shape: number[]): { suffix: string; torchShape: number[]; convert: (v: Float32Array) => Float32Array } | null {
  const same = (suffix: string) => ({ suffix, torchShape: shape, convert: (v: Float32Array) => v });
  if (weightName === "bias") return same("bias");
  if (className === "Conv2D" && weightName === "kernel") {
    const [kh, kw, i, o] = shape;
    return { suffix: "weight", torchShape: [o, i, kh, kw], convert: (v) => oihwToHwio(v, [o, i, kh, kw]) };
  }
  if (className === "DepthwiseConv2D" && weightName === "depthwise_kernel") {
    const [kh, kw, c, m] = shape;
    return { suffix: "weight", torchShape: [c * m, 1, kh, kw], convert: (v) => depthwiseToTf(v, shape) };
  }
  if (className === "Dense" && weightName === "kernel") {
    const [inputs, outputs] = shape;
    return { suffix: "weight", torchShape: [outputs, inputs], convert: (v) => transpose2d(v, outputs, inputs) };
  }
  if (className === "BatchNormalization") {
    const suffix = { gamma: "weight", beta: "bias", moving_mean: "running_mean", moving_variance: "running_var" }[weightName];
    return suffix ? same(suffix) : null;
  }
  return null;
}

/** Copies the tensors of `tensors` into `model`'s layers named by `moduleName`; see TransferReport. */
export function loadTorchTensors(model: tf.LayersModel, tensors: ReadonlyMap<string, LoadedTensor>, moduleName: ModuleNamer): TransferReport {
  const layerNames = new Set(model.layers.map((layer) => layer.name));
  const used = new Set<string>();
  const report: TransferReport = { transferred: [], skipped: [], unused: [] };
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const module = moduleName(layer.name, layerNames);
    if (module === null) {
      report.skipped.push({ layer: layer.name, reason: "no PyTorch module corresponds to this layer" });
      continue;
    }
    const converted: Converted[] = [];
    let problem: string | null = null;
    for (const weight of layer.weights) {
      const weightName = weight.originalName.split("/").pop() ?? "";
      const shape = weight.shape as number[];
      const layout = torchLayout(layer.getClassName(), weightName, shape);
      if (!layout) {
        problem = `${layer.getClassName()} weight "${weightName}" has no PyTorch mapping`;
        break;
      }
      const torchName = `${module}.${layout.suffix}`;
      const tensor = tensors.get(torchName);
      if (!tensor) {
        problem = `${torchName} is missing`;
        break;
      }
      if (!sameShape(tensor.shape, layout.torchShape)) {
        problem = `${torchName} is [${tensor.shape.join(", ")}], the model needs [${layout.torchShape.join(", ")}]`;
        break;
      }
      converted.push({ torchName, values: layout.convert(floats(tensor, torchName)) });
    }
    if (problem) {
      report.skipped.push({ layer: layer.name, reason: problem });
      continue;
    }
    const values = converted.map(({ values }, i) => tf.tensor(values, layer.weights[i].shape as number[]));
    layer.setWeights(values);
    tf.dispose(values);
    for (const { torchName } of converted) {
      used.add(torchName);
      report.transferred.push(torchName);
    }
  }
  report.unused = [...tensors.keys()].filter((name) => !used.has(name) && !name.endsWith(".num_batches_tracked"));
  return report;
}

/** The graph with each BatchNorm node's eps and momentum taken from the checkpoint's modules. */
export function withTorchBatchNorms(graph: ModelGraph, batchNorms: Record<string, BatchNormSettings>, moduleName: ModuleNamer): ModelGraph {
  const ids = new Set(graph.nodes.map((node) => node.id));
  const nodes = graph.nodes.map((node) => {
    const settings = node.type.toLowerCase().startsWith("batchnorm") ? batchNorms[moduleName(node.id, ids) ?? ""] : undefined;
    if (!settings) return node;
    // The graph's momentum is Keras' (the weight of the old average): 1 − PyTorch's.
    const momentum = settings.momentum === null ? {} : { momentum: 1 - settings.momentum };
    return { ...node, data: { ...node.data, eps: settings.eps, ...momentum } };
  });
  return { ...graph, nodes };
}

/** torchvision ResNet: stem_conv → conv1, layer2_0_down_bn → layer2.0.downsample.1, fc → fc. */
const resnetName: ModuleNamer = (layer) => {
  if (layer === "stem_conv") return "conv1";
  if (layer === "stem_bn") return "bn1";
  if (layer === "fc") return "fc";
  const match = /^layer(\d)_(\d+)_(1|2|down)_(conv|bn)$/.exec(layer);
  if (!match) return null;
  const [, stage, block, part, kind] = match;
  const module = part === "down" ? `downsample.${kind === "conv" ? 0 : 1}` : `${kind}${part}`;
  return `layer${stage}.${block}.${module}`;
};

/**
 * torchvision MobileNetV2: features.0 is the stem, features.k+1 the k-th inverted residual (its
 * `conv` Sequential holds [expand ConvBNReLU], dw ConvBNReLU, project conv, BN), then the head
 * conv; classifier.1 the Linear.
 */
const mobilenetV2Name: ModuleNamer = (layer, layers) => {
  const blocks = [...layers].filter((name) => /^block\d+_dw_conv$/.test(name)).length;
  const convBnRelu = (index: string, kind: string) => `${index}.${kind === "conv" ? 0 : 1}`;
  if (layer === "stem_conv" || layer === "stem_bn") return `features.${convBnRelu("0", layer.slice(5))}`;
  if (layer === "head_conv" || layer === "head_bn") return `features.${convBnRelu(String(blocks + 1), layer.slice(5))}`;
  if (layer === "fc") return "classifier.1";
  const match = /^block(\d+)_(expand|dw|project)_(conv|bn)$/.exec(layer);
  if (!match) return null;
  const [, block, part, kind] = match;
  const expands = layers.has(`block${block}_expand_conv`);
  const dwIndex = expands ? 1 : 0;
  const prefix = `features.${Number(block) + 1}.conv`;
  if (part === "expand") return `${prefix}.${convBnRelu("0", kind)}`;
  if (part === "dw") return `${prefix}.${convBnRelu(String(dwIndex), kind)}`;
  return `${prefix}.${dwIndex + 1 + (kind === "conv" ? 0 : 1)}`;
};

/** Ultralytics' Detect is module 22 of every yolov8*.yaml. */
const YOLOV8_DETECT_INDEX = 22;

/**
 * Ultralytics YOLOv8: b2_m0_cv1_conv → model.2.m.0.cv1.conv, h16_bn → model.16.bn;
 * detect_box0_1_bn → model.22.cv2.0.1.bn, detect_cls2_pred → model.22.cv3.2.2.
 */
const yolov8Name: ModuleNamer = (layer) => {
  const head = /^detect_(box|cls)(\d+)_(0|1|pred)(_bn)?$/.exec(layer);
  if (head) {
    const [, branch, level, index, bn] = head;
    const base = `model.${YOLOV8_DETECT_INDEX}.${branch === "box" ? "cv2" : "cv3"}.${level}`;
    return index === "pred" ? `${base}.2` : `${base}.${index}.${bn ? "bn" : "conv"}`;
  }
  const body = /^[bh](\d+)_(.+)$/.exec(layer);
  if (!body) return null;
  const rest = body[2].split("_").map((part) => part.replace(/^m(\d+)$/, "m.$1"));
  return `model.${body[1]}.${rest.join(".")}`;
};

/** The namer for a zoo model's PyTorch original, or null when the zoo model has none. */
export function torchNamerForZooModel(zooName: string): ModuleNamer | null {
  if (zooName === "resnet18" || zooName === "resnet34") return resnetName;
  if (zooName === "mobilenet_v2") return mobilenetV2Name;
  if (/^yolov8[nsmlx]$/.test(zooName)) return yolov8Name;
  return null;
}
