// The YOLOv8 "Detect" node type: decoupled anchor-free head (a box branch and a class branch per level).
// Its output is the raw [anchors, 4*reg_max + nc] tensor (levels in stride order, each row-major over its
// grid) that detectionLoss trains and decodeRawOutput / the ONNX decode turn into boxes.

import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { onnxFloat, type OnnxGraph } from "../export/onnx-graph";
import { LayerError, registerLayerType, type BuildContext, type OnnxNodeContext, type Shape } from "../graph/registry";
import { batchNormalization } from "../graph/layers/batch-norm";
import { applyLayer, emitActivation, hwioToOihw, withAliases } from "../graph/layers/common";
import { conv2d } from "../graph/layers/plain-conv";
import { DEFAULT_STRIDES, REG_MAX } from "./dfl";

const positiveInt = z.coerce.number().int().positive();

export const detectHeadSchema = withAliases(
  { nc: ["num_classes", "classes", "numClasses"], reg_max: ["regMax"] },
  z.object({
    nc: positiveInt,
    reg_max: positiveInt.default(REG_MAX),
    strides: z.array(positiveInt).min(1).default([...DEFAULT_STRIDES]),
  }),
);
export type DetectHeadData = z.output<typeof detectHeadSchema>;

/** PyTorch BatchNorm2d(eps=1e-3, momentum=0.03) as Ultralytics' Conv uses it, in Keras' momentum convention. */
export const BN_EPS = 1e-3;
export const BN_MOMENTUM = 0.97;

/** Hidden widths of the box (c2) and class (c3) branches, as Ultralytics' Detect chooses them. */
export function detectBranchWidths(firstLevelChannels: number, data: DetectHeadData): { box: number; cls: number } {
  return {
    box: Math.max(16, Math.floor(firstLevelChannels / 4), data.reg_max * 4),
    cls: Math.max(firstLevelChannels, Math.min(data.nc, 100)),
  };
}

export interface HeadConv {
  name: string;
  kernel: number;
  inChannels: number;
  filters: number;
  /** Conv-BN-SiLU when true; plain conv with bias (the branch's prediction layer) otherwise. */
  normalized: boolean;
  biasInit?: number;
}

/** The convolutions of one level: [box branch, class branch], each a list applied in order. */
export function levelConvs(id: string, level: number, inChannels: number, first: number, data: DetectHeadData): HeadConv[][] {
  const { box, cls } = detectBranchWidths(first, data);
  const stride = data.strides[level];
  const branch = (kind: string, hidden: number, outputs: number, biasInit: number): HeadConv[] => [
    { name: `${id}_${kind}${level}_0`, kernel: 3, inChannels, filters: hidden, normalized: true },
    { name: `${id}_${kind}${level}_1`, kernel: 3, inChannels: hidden, filters: hidden, normalized: true },
    { name: `${id}_${kind}${level}_pred`, kernel: 1, inChannels: hidden, filters: outputs, normalized: false, biasInit },
  ];
  return [
    // Box bias 1.0 and class bias log(5 / nc / (640 / s)^2): Ultralytics' Detect.bias_init (≈5 objects per 640² image).
    branch("box", box, 4 * data.reg_max, 1.0),
    branch("cls", cls, data.nc, Math.log(5 / data.nc / (640 / stride) ** 2)),
  ];
}

function checkLevels(inputs: Shape[], data: DetectHeadData): void {
  if (inputs.length !== data.strides.length) {
    throw new LayerError(`receives ${inputs.length} feature maps but strides lists ${data.strides.length} levels`, "strides");
  }
  inputs.forEach((shape, i) => {
    if (shape.length !== 3) throw new LayerError(`input ${i + 1} must be a feature map [H, W, C], got [${shape.join(", ")}]`);
    const ratio = data.strides[i] / data.strides[0];
    if (shape[0] * ratio !== inputs[0][0] || shape[1] * ratio !== inputs[0][1]) {
      throw new LayerError(
        `feature map ${i + 1} is ${shape[0]}x${shape[1]}, expected ${inputs[0][0] / ratio}x${inputs[0][1] / ratio} for stride ${data.strides[i]} (inputs must be in stride order)`,
        "strides",
      );
    }
  });
}

function buildConv(x: tf.SymbolicTensor, conv: HeadConv, ctx: BuildContext): tf.SymbolicTensor {
  const layer = conv2d({
    filters: conv.filters,
    kernelSize: conv.kernel,
    padding: "same",
    useBias: !conv.normalized,
    kernelInitializer: ctx.initializer("he", conv.name),
    biasInitializer: conv.biasInit === undefined ? undefined : tf.initializers.constant({ value: conv.biasInit }),
    name: conv.name,
  });
  let y = applyLayer(layer, x);
  if (!conv.normalized) return y;
  y = applyLayer(batchNormalization({ axis: -1, epsilon: BN_EPS, momentum: BN_MOMENTUM, name: `${conv.name}_bn` }), y);
  return applyLayer(tf.layers.activation({ activation: "swish", name: `${conv.name}_act` }), y);
}

function emitConv(ctx: OnnxNodeContext<DetectHeadData>, graph: OnnxGraph, x: string, conv: HeadConv): string {
  const [kernel, bias] = ctx.layerWeights(conv.name);
  const oihw = hwioToOihw(kernel);
  const inputs = [x, graph.addWeight(`${conv.name}.weight`, oihw.values, oihw.dims, { quantizeAxis: 0 })];
  if (bias) inputs.push(graph.addWeight(`${conv.name}.bias`, bias.values, [bias.values.length]));
  const pad = (conv.kernel - 1) / 2;
  const y = graph.op("Conv", inputs, { kernel_shape: [conv.kernel, conv.kernel], strides: [1, 1], pads: [pad, pad, pad, pad] }, conv.name);
  if (!conv.normalized) return y;
  const [gamma, beta, mean, variance] = ctx.layerWeights(`${conv.name}_bn`);
  const add = (suffix: string, w: { values: Float32Array }) => graph.addWeight(`${conv.name}_bn.${suffix}`, w.values, [w.values.length]);
  const bn = graph.op(
    "BatchNormalization",
    [y, add("weight", gamma), add("bias", beta), add("running_mean", mean), add("running_var", variance)],
    { epsilon: onnxFloat(BN_EPS) },
    `${conv.name}_bn`,
  );
  return emitActivation(graph, bn, "silu", `${conv.name}_act`);
}

function convParams(conv: HeadConv): { trainable: number; nonTrainable: number } {
  const weights = conv.kernel * conv.kernel * conv.inChannels * conv.filters;
  return conv.normalized ? { trainable: weights + 2 * conv.filters, nonTrainable: 2 * conv.filters } : { trainable: weights + conv.filters, nonTrainable: 0 };
}

registerLayerType<DetectHeadData>({
  type: "Detect",
  gradients: { tfjs: { examples: [{ inputShapes: [[8, 8, 8], [4, 4, 16], [2, 2, 16]], data: { nc: 2 } }] } },
  category: "head",
  aliases: ["YOLOv8Detect", "DetectHead"],
  description: "YOLOv8 anchor-free detection head over P3/P4/P5 (DFL box branch + class branch per level); raw output [anchors, 4*reg_max + nc]",
  inputs: { min: 1, max: 5 },
  dataSchema: detectHeadSchema,
  inferShape(inputs, data) {
    checkLevels(inputs, data);
    const anchors = inputs.reduce((n, [h, w]) => n + h * w, 0);
    return [anchors, 4 * data.reg_max + data.nc];
  },
  params(inputs, data) {
    let trainable = 0;
    let nonTrainable = 0;
    inputs.forEach((shape, level) => {
      for (const conv of levelConvs("", level, shape[2], inputs[0][2], data).flat()) {
        const p = convParams(conv);
        trainable += p.trainable;
        nonTrainable += p.nonTrainable;
      }
    });
    return { trainable, nonTrainable };
  },
  flops(inputs, data) {
    return inputs.reduce((total, shape, level) => {
      const convs = levelConvs("", level, shape[2], inputs[0][2], data).flat();
      return total + convs.reduce((sum, c) => sum + 2 * shape[0] * shape[1] * c.kernel * c.kernel * c.inChannels * c.filters, 0);
    }, 0);
  },
  innerView(inputs, data) {
    return inputs.flatMap(([h, w, c], level) =>
      levelConvs("detect", level, c, inputs[0][2], data).flatMap((convs) =>
        convs.map((conv, i) => {
          const p = convParams(conv);
          return {
            id: conv.name,
            type: conv.normalized ? "ConvBlock" : "Conv2d",
            outputShape: [h, w, conv.filters],
            params: p.trainable + p.nonTrainable,
            trainableParams: p.trainable,
            flops: 2 * h * w * conv.kernel * conv.kernel * conv.inChannels * conv.filters,
            inputs: i === 0 ? [`input${level}`] : [convs[i - 1].name],
          };
        }),
      ),
    );
  },
  build(inputs, data, ctx) {
    const first = ctx.inputShapes[0][2];
    const levels = inputs.map((x, level) => {
      const [h, w, channels] = ctx.inputShapes[level];
      const branches = levelConvs(ctx.name, level, channels, first, data).map((convs) => convs.reduce((y, conv) => buildConv(y, conv, ctx), x));
      const joined = applyLayer(tf.layers.concatenate({ axis: -1, name: `${ctx.name}_cat${level}` }), branches);
      return applyLayer(tf.layers.reshape({ targetShape: [h * w, 4 * data.reg_max + data.nc], name: `${ctx.name}_flat${level}` }), joined);
    });
    if (levels.length === 1) return applyLayer(tf.layers.activation({ activation: "linear", name: ctx.name }), levels[0]);
    return applyLayer(tf.layers.concatenate({ axis: 1, name: ctx.name }), levels);
  },
  toOnnx(ctx) {
    const { graph, data, nodeId } = ctx;
    const first = ctx.inputShapes[0][2];
    const channels = 4 * data.reg_max + data.nc;
    const flat = ctx.inputs.map((x, level) => {
      const [h, w, inChannels] = ctx.inputShapes[level];
      const branches = levelConvs(nodeId, level, inChannels, first, data).map((convs) => convs.reduce((y, conv) => emitConv(ctx, graph, y, conv), x));
      const joined = graph.op("Concat", branches, { axis: 1 }, `${nodeId}_cat${level}`);
      const shape = graph.constInt64(`${nodeId}_flat${level}_shape`, [-1, channels, h * w]);
      return graph.op("Reshape", [joined, shape], {}, `${nodeId}_flat${level}`);
    });
    const all = flat.length === 1 ? flat[0] : graph.op("Concat", flat, { axis: 2 }, `${nodeId}_levels`);
    // [N, channels, anchors] -> [N, anchors, channels], the TF.js layout.
    return graph.op("Transpose", [all], { perm: [0, 2, 1] }, nodeId);
  },
});
