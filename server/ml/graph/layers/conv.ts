import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerError, registerLayerType, type BuildContext, type LayerWeight, type OnnxNodeContext, type Shape } from "../registry";
import { ChannelSlice } from "./channel-slice";
import { depthwiseConv2d } from "./depthwise-conv";
import { conv2d } from "./plain-conv";
import {
  activationSchema,
  applyLayer,
  booleanish,
  emitActivation,
  hwioToOihw,
  intPair,
  onnxPads,
  paddingSchema,
  positiveInt,
  requireImage,
  tfActivation,
  tfWindowPadding,
  withAliases,
  windowOutput,
  type Padding,
} from "./common";

const convFields = {
  kernel_size: intPair.prefault(3),
  stride: intPair.prefault(1),
  padding: paddingSchema.prefault("same"),
  dilation: intPair.prefault(1),
  bias: booleanish.default(true),
  activation: activationSchema,
};

const convAliases = {
  kernel_size: ["k", "kernel", "kernelSize"],
  stride: ["s", "strides"],
  padding: ["p", "pad"],
  dilation: ["d", "dilation_rate", "dilationRate"],
  bias: ["use_bias", "useBias"],
  activation: ["act"],
};

const noDilatedStride = (d: { stride: [number, number]; dilation: [number, number] }) =>
  !(Math.max(...d.stride) > 1 && Math.max(...d.dilation) > 1);
const dilatedStrideMessage = { message: "dilation > 1 together with stride > 1 is not supported by TF.js", path: ["dilation"] };

const conv2dSchema = withAliases(
  {
    ...convAliases,
    filters: ["out", "out_channels", "c2", "channels"],
    in_channels: ["in", "c1"],
    groups: ["g"],
  },
  z
    .object({
      ...convFields,
      filters: positiveInt,
      in_channels: positiveInt.optional(),
      groups: positiveInt.default(1),
    })
    .refine(noDilatedStride, dilatedStrideMessage),
);

const depthwiseSchema = withAliases(
  { ...convAliases, depth_multiplier: ["multiplier", "depthMultiplier"] },
  z.object({ ...convFields, depth_multiplier: positiveInt.default(1) }).refine(noDilatedStride, dilatedStrideMessage),
);

type Conv2dData = z.output<typeof conv2dSchema>;
type DepthwiseData = z.output<typeof depthwiseSchema>;

/** How a Conv2d node is realised in TF.js: a plain conv, a depthwise conv, or one conv per group. */
function convKind(inChannels: number, data: Conv2dData): "plain" | "depthwise" | "grouped" {
  if (data.groups === 1) return "plain";
  if (data.groups === inChannels && data.filters % inChannels === 0) return "depthwise";
  return "grouped";
}

function convOutputShape(input: Shape, filters: number, data: { kernel_size: [number, number]; stride: [number, number]; dilation: [number, number]; padding: Padding }) {
  const image = requireImage(input, "a convolution");
  const [h, w] = windowOutput(image, data.kernel_size, data.stride, data.dilation, data.padding);
  return [h, w, filters];
}

/** Explicit padding that TF's 'same' does not reproduce becomes a ZeroPadding2D layer in front (see tfWindowPadding). */
function padInput(
  input: tf.SymbolicTensor,
  data: { kernel_size: [number, number]; stride: [number, number]; dilation: [number, number]; padding: Padding },
  ctx: BuildContext,
): { x: tf.SymbolicTensor; tfPadding: "same" | "valid" } {
  const { pads, tfPadding } = tfWindowPadding(ctx.inputShapes[0], data.kernel_size, data.stride, data.dilation, data.padding);
  if (!pads) return { x: input, tfPadding };
  return { x: applyLayer(tf.layers.zeroPadding2d({ padding: pads, name: `${ctx.name}_pad` }), input), tfPadding };
}

function depthwiseLayer(
  data: Omit<DepthwiseData, "depth_multiplier">,
  multiplier: number,
  tfPadding: "same" | "valid",
  ctx: BuildContext,
) {
  return depthwiseConv2d({
    kernelSize: data.kernel_size,
    depthMultiplier: multiplier,
    strides: data.stride,
    padding: tfPadding,
    dilationRate: data.dilation,
    useBias: data.bias,
    activation: tfActivation(data.activation),
    depthwiseInitializer: ctx.initializer("he"),
    name: ctx.name,
  });
}

function buildConv2d(inputs: tf.SymbolicTensor[], data: Conv2dData, ctx: BuildContext): tf.SymbolicTensor {
  const inChannels = ctx.inputShapes[0][2];
  const { x, tfPadding } = padInput(inputs[0], data, ctx);
  const kind = convKind(inChannels, data);
  if (kind === "depthwise") return applyLayer(depthwiseLayer(data, data.filters / inChannels, tfPadding, ctx), x);
  const convConfig = (filters: number, name: string) => ({
    filters,
    kernelSize: data.kernel_size,
    strides: data.stride,
    padding: tfPadding,
    dilationRate: data.dilation,
    useBias: data.bias,
    activation: tfActivation(data.activation),
    kernelInitializer: ctx.initializer("he", name),
    name,
  });
  if (kind === "plain") return applyLayer(conv2d(convConfig(data.filters, ctx.name)), x);
  const groupIn = inChannels / data.groups;
  const groupOut = data.filters / data.groups;
  const parts = Array.from({ length: data.groups }, (_, g) => {
    const slice = applyLayer(new ChannelSlice({ start: g * groupIn, end: (g + 1) * groupIn, name: `${ctx.name}_in${g}` }), x);
    return applyLayer(conv2d(convConfig(groupOut, `${ctx.name}_g${g}`)), slice);
  });
  return applyLayer(tf.layers.concatenate({ axis: -1, name: ctx.name }), parts);
}

/** Emits one ONNX Conv (+ activation) from OIHW weights. */
function emitConv(
  ctx: OnnxNodeContext<{ kernel_size: [number, number]; stride: [number, number]; dilation: [number, number]; padding: Padding; activation: Conv2dData["activation"] }>,
  kernel: { values: Float32Array; dims: number[] },
  bias: Float32Array | undefined,
  group: number,
): string {
  const { graph, nodeId, data } = ctx;
  const w = graph.addWeight(`${nodeId}.weight`, kernel.values, kernel.dims, { quantizeAxis: 0 });
  const inputs = [ctx.inputs[0], w];
  if (bias) inputs.push(graph.addWeight(`${nodeId}.bias`, bias, [bias.length]));
  const conv = graph.op(
    "Conv",
    inputs,
    {
      kernel_shape: data.kernel_size,
      strides: data.stride,
      dilations: data.dilation,
      pads: onnxPads(ctx.inputShapes[0], data.kernel_size, data.stride, data.dilation, data.padding),
      group,
    },
    nodeId,
  );
  return emitActivation(graph, conv, data.activation, `${nodeId}_act`);
}

/** Depthwise kernel [kh, kw, C, M] is laid out like HWIO [kh, kw, 1, C·M] with output channel c·M+m, as ONNX groups expect. */
function depthwiseAsHwio(kernel: LayerWeight): LayerWeight {
  const [kh, kw, c, m] = kernel.shape;
  return { ...kernel, shape: [kh, kw, 1, c * m] };
}

function concatFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

registerLayerType<Conv2dData>({
  type: "Conv2d",
  gradients: {
    tfjs: {
      examples: [
        { inputShapes: [[6, 6, 3]], data: { filters: 4, kernel_size: 3, padding: 1 } },
        // PyTorch's padding at stride 2 on an even size: a pad layer, then a 'valid' conv.
        { inputShapes: [[6, 6, 3]], data: { filters: 4, kernel_size: 3, stride: 2, padding: 1, bias: false } },
        { inputShapes: [[5, 5, 3]], data: { filters: 4, kernel_size: 3, padding: "same", activation: "relu" } },
        { inputShapes: [[4, 4, 4]], data: { filters: 4, kernel_size: 1, groups: 2 } },
        { inputShapes: [[7, 7, 2]], data: { filters: 2, kernel_size: 3, dilation: 2, padding: 2 } },
      ],
    },
  },
  category: "convolution",
  aliases: ["Conv", "Conv2D", "Convolution"],
  description: "2-D convolution (optional groups, bias, dilation and fused activation)",
  inputs: { min: 1, max: 1 },
  dataSchema: conv2dSchema,
  inferShape([input], data) {
    const inChannels = input[input.length - 1];
    if (data.in_channels !== undefined && input.length === 3 && data.in_channels !== inChannels) {
      throw new LayerError(`expects ${data.in_channels} input channels (in_channels) but receives ${inChannels}`, "in_channels");
    }
    if (inChannels % data.groups !== 0 || data.filters % data.groups !== 0) {
      throw new LayerError(`groups=${data.groups} must divide input channels (${inChannels}) and filters (${data.filters})`, "groups");
    }
    return convOutputShape(input, data.filters, data);
  },
  params([input], data) {
    const perFilter = data.kernel_size[0] * data.kernel_size[1] * (input[2] / data.groups);
    return { trainable: data.filters * perFilter + (data.bias ? data.filters : 0), nonTrainable: 0 };
  },
  flops([input], data, output) {
    return 2 * output[0] * output[1] * data.filters * data.kernel_size[0] * data.kernel_size[1] * (input[2] / data.groups);
  },
  build: buildConv2d,
  toOnnx(ctx) {
    const kind = convKind(ctx.inputShapes[0][2], ctx.data);
    if (kind === "grouped") {
      const groups = Array.from({ length: ctx.data.groups }, (_, g) => ctx.layerWeights(`${ctx.nodeId}_g${g}`));
      const kernels = groups.map(([kernel]) => hwioToOihw(kernel));
      const kernel = { values: concatFloat(kernels.map((k) => k.values)), dims: [ctx.data.filters, ...kernels[0].dims.slice(1)] };
      const bias = ctx.data.bias ? concatFloat(groups.map((w) => w[1].values)) : undefined;
      return emitConv(ctx, kernel, bias, ctx.data.groups);
    }
    const [kernel, bias] = ctx.layerWeights();
    if (kind === "depthwise") return emitConv(ctx, hwioToOihw(depthwiseAsHwio(kernel)), bias?.values, ctx.data.groups);
    return emitConv(ctx, hwioToOihw(kernel), bias?.values, 1);
  },
});

registerLayerType<DepthwiseData>({
  type: "DepthwiseConv2d",
  gradients: {
    tfjs: {
      examples: [
        { inputShapes: [[5, 5, 3]], data: { kernel_size: 3, padding: 1, activation: "relu6" } },
        { inputShapes: [[6, 6, 3]], data: { kernel_size: 3, stride: 2, padding: 1, bias: false, depth_multiplier: 2 } },
        { inputShapes: [[7, 7, 2]], data: { kernel_size: 3, dilation: 2, padding: 2 } },
      ],
    },
  },
  category: "convolution",
  aliases: ["DepthwiseConv2D", "DWConv", "DepthwiseConv"],
  description: "depthwise 2-D convolution (one filter set per input channel, depth_multiplier outputs each)",
  inputs: { min: 1, max: 1 },
  dataSchema: depthwiseSchema,
  inferShape([input], data) {
    return convOutputShape(input, input[input.length - 1] * data.depth_multiplier, data);
  },
  params([input], data, output) {
    const weights = data.kernel_size[0] * data.kernel_size[1] * input[2] * data.depth_multiplier;
    return { trainable: weights + (data.bias ? output[2] : 0), nonTrainable: 0 };
  },
  flops(_inputs, data, output) {
    return 2 * output[0] * output[1] * output[2] * data.kernel_size[0] * data.kernel_size[1];
  },
  build(inputs, data, ctx) {
    const { x, tfPadding } = padInput(inputs[0], data, ctx);
    return applyLayer(depthwiseLayer(data, data.depth_multiplier, tfPadding, ctx), x);
  },
  toOnnx(ctx) {
    const [kernel, bias] = ctx.layerWeights();
    return emitConv(ctx, hwioToOihw(depthwiseAsHwio(kernel)), bias?.values, ctx.inputShapes[0][2]);
  },
});
