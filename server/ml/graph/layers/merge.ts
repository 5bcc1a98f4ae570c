import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerError, registerLayerType } from "../registry";
import { ChannelSlice } from "./channel-slice";
import { applyLayer, noParams, nonNegativeInt, positiveInt, product, requireImage, withAliases } from "./common";

const describe = (shapes: number[][]) => shapes.map((s) => `[${s.join(", ")}]`).join(" vs ");

registerLayerType({
  type: "Add",
  gradients: { tfjs: { examples: [{ inputShapes: [[4, 4, 3], [4, 4, 3], [4, 4, 3]], data: {} }] } },
  category: "merge",
  aliases: ["Sum", "Residual"],
  description: "elementwise sum of inputs of identical shape (skip connections)",
  inputs: { min: 2, max: Infinity },
  dataSchema: z.object({}),
  inferShape(inputs) {
    const [first] = inputs;
    if (inputs.some((s) => s.length !== first.length || s.some((d, i) => d !== first[i]))) {
      throw new LayerError(`inputs must have the same shape: ${describe(inputs)}`);
    }
    return first;
  },
  params: noParams,
  flops: (inputs, _data, output) => (inputs.length - 1) * product(output),
  build(inputs, _data, ctx) {
    return applyLayer(tf.layers.add({ name: ctx.name }), inputs);
  },
  toOnnx(ctx) {
    let sum = ctx.inputs[0];
    ctx.inputs.slice(1).forEach((next, i) => {
      const last = i === ctx.inputs.length - 2;
      sum = ctx.graph.op("Add", [sum, next], {}, last ? ctx.nodeId : `${ctx.nodeId}_${i}`);
    });
    return sum;
  },
});

registerLayerType({
  type: "Concat",
  gradients: { tfjs: { examples: [{ inputShapes: [[4, 4, 3], [4, 4, 2]], data: {} }] } },
  category: "merge",
  aliases: ["Concatenate", "Cat"],
  description: "concatenation along channels; spatial sizes must match",
  inputs: { min: 2, max: Infinity },
  dataSchema: z.object({}),
  inferShape(inputs) {
    const [first] = inputs;
    const spatialMismatch = inputs.some((s) => s.length !== first.length || s.slice(0, -1).some((d, i) => d !== first[i]));
    if (spatialMismatch) {
      throw new LayerError(`inputs must agree in every axis but channels: ${describe(inputs)}`);
    }
    return [...first.slice(0, -1), inputs.reduce((sum, s) => sum + s[s.length - 1], 0)];
  },
  params: noParams,
  flops: () => 0,
  build(inputs, _data, ctx) {
    return applyLayer(tf.layers.concatenate({ axis: -1, name: ctx.name }), inputs);
  },
  toOnnx(ctx) {
    return ctx.graph.op("Concat", ctx.inputs, { axis: 1 }, ctx.nodeId);
  },
});

const upsampleSchema = withAliases(
  { scale: ["scale_factor", "size", "factor"] },
  z.object({ scale: positiveInt.default(2), mode: z.literal("nearest").default("nearest") }),
);

registerLayerType<z.output<typeof upsampleSchema>>({
  type: "Upsample",
  gradients: { tfjs: { examples: [{ inputShapes: [[3, 3, 2]], data: { scale: 2 } }] } },
  category: "shape",
  aliases: ["UpSampling2D", "Upsampling", "UpSample"],
  description: "nearest-neighbour upsampling by an integer scale",
  inputs: { min: 1, max: 1 },
  dataSchema: upsampleSchema,
  inferShape([input], data) {
    const [h, w, c] = requireImage(input, "Upsample");
    return [h * data.scale, w * data.scale, c];
  },
  params: noParams,
  flops: () => 0,
  build([input], data, ctx) {
    return applyLayer(tf.layers.upSampling2d({ size: [data.scale, data.scale], interpolation: "nearest", name: ctx.name }), input);
  },
  toOnnx(ctx) {
    const scales = ctx.graph.constFloat(`${ctx.nodeId}_scales`, [1, 1, ctx.data.scale, ctx.data.scale]);
    // TF.js nearest resize reads source pixel floor(dst / scale): asymmetric coordinates, floor rounding.
    return ctx.graph.op(
      "Resize",
      // An empty roi tensor rather than an omitted input: opset 12 requires the input to be present.
      [ctx.inputs[0], ctx.graph.constFloat(`${ctx.nodeId}_roi`, [], [0]), scales],
      { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" },
      ctx.nodeId,
    );
  },
});

const sliceSchema = withAliases(
  { start: ["begin", "from"], end: ["stop", "to"] },
  z.object({ start: nonNegativeInt.default(0), end: positiveInt }).refine((d) => d.end > d.start, {
    message: "end must be greater than start",
    path: ["end"],
  }),
);

registerLayerType<z.output<typeof sliceSchema>>({
  type: "Slice",
  gradients: { tfjs: { examples: [{ inputShapes: [[4, 4, 6]], data: { start: 2, end: 5 } }] } },
  category: "shape",
  aliases: ["ChannelSlice"],
  description: "channels [start, end) of the input",
  inputs: { min: 1, max: 1 },
  dataSchema: sliceSchema,
  inferShape([input], data) {
    const channels = input[input.length - 1];
    if (data.end > channels) {
      throw new LayerError(`end ${data.end} is beyond the ${channels} input channels`, "end");
    }
    return [...input.slice(0, -1), data.end - data.start];
  },
  params: noParams,
  flops: () => 0,
  build([input], data, ctx) {
    return applyLayer(new ChannelSlice({ start: data.start, end: data.end, name: ctx.name }), input);
  },
  toOnnx(ctx) {
    const { graph, nodeId, data } = ctx;
    const starts = graph.constInt64(`${nodeId}_starts`, [data.start]);
    const ends = graph.constInt64(`${nodeId}_ends`, [data.end]);
    const axes = graph.constInt64(`${nodeId}_axes`, [1]);
    return graph.op("Slice", [ctx.inputs[0], starts, ends, axes], {}, nodeId);
  },
});
