import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerError, registerLayerType } from "../registry";
import {
  applyLayer,
  intPair,
  noParams,
  nonNegativeInt,
  onnxPads,
  paddingSchema,
  product,
  requireImage,
  tfWindowPadding,
  windowOutput,
  withAliases,
} from "./common";
import { MaxPoolPadding2D } from "./max-pool-padding";

/** stride defaults to the kernel size, as in PyTorch and Keras. */
const poolSchema = withAliases(
  { kernel_size: ["k", "kernel", "pool_size", "poolSize"], stride: ["s", "strides"], padding: ["p", "pad"] },
  z
    .object({ kernel_size: intPair.prefault(2), stride: intPair.optional(), padding: paddingSchema.prefault("valid") })
    .transform((d) => ({ ...d, stride: d.stride ?? d.kernel_size })),
);
type PoolData = z.output<typeof poolSchema>;

const NO_DILATION: [number, number] = [1, 1];

function poolShape([input]: number[][], data: PoolData) {
  const image = requireImage(input, "pooling");
  return [...windowOutput(image, data.kernel_size, data.stride, NO_DILATION, data.padding), image[2]];
}

const poolFlops = (_inputs: number[][], data: PoolData, output: number[]) => product(output) * product(data.kernel_size);

registerLayerType<PoolData>({
  type: "MaxPool",
  gradients: {
    tfjs: {
      examples: [
        { inputShapes: [[4, 4, 3]], data: { kernel_size: 2 } },
        // Explicit padding (ResNet's stem, SPPF): padded with -Infinity so it is never picked.
        { inputShapes: [[6, 6, 3]], data: { kernel_size: 3, stride: 2, padding: 1 } },
        { inputShapes: [[4, 4, 3]], data: { kernel_size: 5, stride: 1, padding: 2 } },
      ],
    },
  },
  category: "pooling",
  aliases: ["MaxPool2d", "MaxPooling2D", "MaxPool2D"],
  description: "max pooling; an explicit padding is PyTorch's (padded pixels never win), 'same' is TF's",
  inputs: { min: 1, max: 1 },
  dataSchema: poolSchema,
  inferShape(inputs, data) {
    if (data.padding.mode === "explicit") {
      const { pads } = data.padding;
      // As PyTorch requires: a window then always holds a real pixel.
      if (pads.some((p, axis) => 2 * p > data.kernel_size[axis])) {
        throw new LayerError(`padding ${pads.join("x")} exceeds half the kernel ${data.kernel_size.join("x")}`, "padding");
      }
    }
    return poolShape(inputs, data);
  },
  params: noParams,
  flops: poolFlops,
  build([input], data, ctx) {
    const { pads, tfPadding } = tfWindowPadding(ctx.inputShapes[0], data.kernel_size, data.stride, NO_DILATION, data.padding);
    const x = pads ? applyLayer(new MaxPoolPadding2D({ padding: pads, name: `${ctx.name}_pad` }), input) : input;
    return applyLayer(tf.layers.maxPooling2d({ poolSize: data.kernel_size, strides: data.stride, padding: tfPadding, name: ctx.name }), x);
  },
  toOnnx(ctx) {
    const { kernel_size, stride, padding } = ctx.data;
    const pads = onnxPads(ctx.inputShapes[0], kernel_size, stride, NO_DILATION, padding);
    return ctx.graph.op("MaxPool", ctx.inputs, { kernel_shape: kernel_size, strides: stride, pads }, ctx.nodeId);
  },
});

registerLayerType<PoolData>({
  type: "AvgPool",
  gradients: {
    tfjs: {
      examples: [
        { inputShapes: [[4, 4, 3]], data: { kernel_size: 2 } },
        { inputShapes: [[5, 5, 3]], data: { kernel_size: 3, stride: 1, padding: 1 } },
        { inputShapes: [[5, 5, 3]], data: { kernel_size: 3, stride: 2, padding: "same" } },
      ],
    },
  },
  category: "pooling",
  aliases: ["AvgPool2d", "AveragePooling2D", "AvgPool2D", "AveragePool"],
  description: "average pooling; 'same' averages only real pixels, an explicit padding counts the zeros (PyTorch default)",
  inputs: { min: 1, max: 1 },
  dataSchema: poolSchema,
  inferShape: poolShape,
  params: noParams,
  flops: poolFlops,
  build([input], data, ctx) {
    let x = input;
    if (data.padding.mode === "explicit") {
      const [ph, pw] = data.padding.pads;
      x = applyLayer(tf.layers.zeroPadding2d({ padding: [[ph, ph], [pw, pw]], name: `${ctx.name}_pad` }), x);
    }
    const padding = data.padding.mode === "same" ? "same" : "valid";
    return applyLayer(tf.layers.averagePooling2d({ poolSize: data.kernel_size, strides: data.stride, padding, name: ctx.name }), x);
  },
  toOnnx(ctx) {
    const { kernel_size, stride, padding } = ctx.data;
    const pads = onnxPads(ctx.inputShapes[0], kernel_size, stride, NO_DILATION, padding);
    const countIncludePad = padding.mode === "explicit" ? 1 : 0;
    return ctx.graph.op(
      "AveragePool",
      ctx.inputs,
      { kernel_shape: kernel_size, strides: stride, pads, count_include_pad: countIncludePad },
      ctx.nodeId,
    );
  },
});

registerLayerType({
  type: "GlobalAvgPool",
  gradients: { tfjs: { examples: [{ inputShapes: [[4, 4, 3]], data: {} }] } },
  category: "pooling",
  aliases: ["GlobalAveragePooling2D", "GAP", "AdaptiveAvgPool2d", "GlobalAvgPool2d", "GlobalAveragePool"],
  description: "mean over H and W: [H, W, C] → [C]",
  inputs: { min: 1, max: 1 },
  dataSchema: z.object({}),
  inferShape([input]) {
    return [requireImage(input, "GlobalAvgPool")[2]];
  },
  params: noParams,
  flops: ([input]) => product(input),
  build([input], _data, ctx) {
    return applyLayer(tf.layers.globalAveragePooling2d({ name: ctx.name }), input);
  },
  toOnnx(ctx) {
    const pooled = ctx.graph.op("GlobalAveragePool", ctx.inputs, {}, ctx.nodeId);
    return ctx.graph.op("Flatten", [pooled], { axis: 1 }, `${ctx.nodeId}_flatten`);
  },
});

/** [top, bottom, left, right] from an int, [ph, pw] or [t, b, l, r]. */
const zeroPaddingSchema = withAliases(
  { padding: ["p", "pad"] },
  z.object({
    padding: z
      .union([nonNegativeInt, z.tuple([nonNegativeInt, nonNegativeInt]), z.tuple([nonNegativeInt, nonNegativeInt, nonNegativeInt, nonNegativeInt])])
      .prefault(1)
      .transform((p): [number, number, number, number] =>
        typeof p === "number" ? [p, p, p, p] : p.length === 2 ? [p[0], p[0], p[1], p[1]] : p,
      ),
  }),
);

registerLayerType<z.output<typeof zeroPaddingSchema>>({
  type: "ZeroPadding",
  gradients: { tfjs: { examples: [{ inputShapes: [[4, 4, 3]], data: { padding: [1, 0, 2, 1] } }] } },
  category: "shape",
  aliases: ["ZeroPadding2D", "ZeroPad2d", "Pad"],
  description: "pads H and W with zeros: padding = int | [ph, pw] | [top, bottom, left, right]",
  inputs: { min: 1, max: 1 },
  dataSchema: zeroPaddingSchema,
  inferShape([input], { padding: [t, b, l, r] }) {
    const [h, w, c] = requireImage(input, "ZeroPadding");
    return [h + t + b, w + l + r, c];
  },
  params: noParams,
  flops: () => 0,
  build([input], { padding: [t, b, l, r] }, ctx) {
    return applyLayer(tf.layers.zeroPadding2d({ padding: [[t, b], [l, r]], name: ctx.name }), input);
  },
  toOnnx(ctx) {
    const [t, b, l, r] = ctx.data.padding;
    const pads = ctx.graph.constInt64(`${ctx.nodeId}_pads`, [0, 0, t, l, 0, 0, b, r]);
    return ctx.graph.op("Pad", [ctx.inputs[0], pads], { mode: "constant" }, ctx.nodeId);
  },
});
