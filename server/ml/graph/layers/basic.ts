import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { onnxFloat } from "../../export/onnx-graph";
import { LayerError, registerLayerType, type LayerTypeDef } from "../registry";
import { batchNormalization } from "./batch-norm";
import {
  activationSchema,
  applyLayer,
  booleanish,
  elementwiseFlops,
  emitActivation,
  noParams,
  numeric,
  positiveInt,
  product,
  tfActivation,
  withAliases,
  type FusedActivation,
} from "./common";

const inputSchema = withAliases(
  { channels: ["c", "ch", "in_channels", "out"] },
  z.object({
    channels: positiveInt.optional(),
    shape: z.array(positiveInt).length(3).optional(),
  }),
);

/**
 * The model input. Its shape comes from the compile/analyse call (imgsz); `channels` or `shape`
 * in its data only have to agree with it. For Input, `inputShapes` holds the model's input shape.
 */
registerLayerType<z.output<typeof inputSchema>>({
  type: "Input",
  gradients: { tfjs: { none: "the graph's input: no gradient flows past it" } },
  category: "input",
  aliases: ["InputLayer", "Image", "Data"],
  description: "the image input [H, W, C] (size set by imgsz)",
  inputs: { min: 0, max: 0 },
  dataSchema: inputSchema,
  inferShape([modelInput], data) {
    const declared = data.channels ?? data.shape?.[2];
    if (declared !== undefined && declared !== modelInput[2]) {
      throw new LayerError(`declares ${declared} channels but the model input has ${modelInput[2]}`, data.channels ? "channels" : "shape");
    }
    return modelInput;
  },
  params: noParams,
  flops: () => 0,
  build(_inputs, _data, ctx) {
    return tf.input({ shape: ctx.inputShapes[0], name: ctx.name });
  },
  toOnnx(ctx) {
    return ctx.inputs[0];
  },
});

const batchNormSchema = withAliases(
  { eps: ["epsilon"] },
  z.object({
    eps: numeric(z.number().positive()).default(1e-5),
    // Keras convention: moving = momentum·moving + (1 − momentum)·batch (PyTorch's 0.1 is Keras' 0.9).
    momentum: numeric(z.number().min(0).max(1)).default(0.9),
  }),
);

registerLayerType<z.output<typeof batchNormSchema>>({
  type: "BatchNorm",
  gradients: { tfjs: { examples: [{ inputShapes: [[4, 4, 3]], data: {} }, { inputShapes: [[5]], data: { eps: 1e-3, momentum: 0.97 } }] } },
  category: "normalization",
  aliases: ["BatchNorm2d", "BatchNormalization", "BN", "BatchNorm1d"],
  description: "batch normalisation over the channel (last) axis",
  inputs: { min: 1, max: 1 },
  dataSchema: batchNormSchema,
  inferShape: ([input]) => input,
  params([input]) {
    const channels = input[input.length - 1];
    return { trainable: 2 * channels, nonTrainable: 2 * channels };
  },
  flops: (_inputs, _data, output) => 2 * product(output),
  build([input], data, ctx) {
    return applyLayer(batchNormalization({ axis: -1, epsilon: data.eps, momentum: data.momentum, name: ctx.name }), input);
  },
  toOnnx(ctx) {
    const [gamma, beta, mean, variance] = ctx.layerWeights();
    const add = (suffix: string, w: { values: Float32Array }) =>
      ctx.graph.addWeight(`${ctx.nodeId}.${suffix}`, w.values, [w.values.length]);
    return ctx.graph.op(
      "BatchNormalization",
      [ctx.inputs[0], add("weight", gamma), add("bias", beta), add("running_mean", mean), add("running_var", variance)],
      { epsilon: onnxFloat(ctx.data.eps) },
      ctx.nodeId,
    );
  },
});

/** An elementwise activation node type without parameters. */
function activationType(type: string, aliases: string[], activation: FusedActivation): LayerTypeDef<Record<string, never>> {
  return {
    type,
    aliases,
    category: "activation",
    description: `${activation} activation`,
    inputs: { min: 1, max: 1 },
    gradients: { tfjs: { examples: [{ inputShapes: [[4, 4, 3]], data: {} }] } },
    dataSchema: z.object({}) as unknown as z.ZodType<Record<string, never>>,
    inferShape: ([input]) => input,
    params: noParams,
    flops: elementwiseFlops,
    build([input], _data, ctx) {
      return applyLayer(tf.layers.activation({ activation: tfActivation(activation), name: ctx.name }), input);
    },
    toOnnx(ctx) {
      return emitActivation(ctx.graph, ctx.inputs[0], activation, ctx.nodeId);
    },
  };
}

registerLayerType(activationType("ReLU", ["Relu"], "relu"));
registerLayerType(activationType("ReLU6", ["Relu6"], "relu6"));
registerLayerType(activationType("SiLU", ["Swish", "Silu"], "silu"));
registerLayerType(activationType("Sigmoid", [], "sigmoid"));
registerLayerType(activationType("Tanh", [], "tanh"));

const leakySchema = withAliases(
  { alpha: ["negative_slope", "slope"] },
  z.object({ alpha: numeric(z.number().min(0)).default(0.01) }),
);

registerLayerType<z.output<typeof leakySchema>>({
  type: "LeakyReLU",
  gradients: { tfjs: { examples: [{ inputShapes: [[4, 4, 3]], data: { alpha: 0.1 } }] } },
  category: "activation",
  aliases: ["LeakyRelu"],
  description: "leaky ReLU (alpha = negative slope, default 0.01 as in PyTorch)",
  inputs: { min: 1, max: 1 },
  dataSchema: leakySchema,
  inferShape: ([input]) => input,
  params: noParams,
  flops: elementwiseFlops,
  build([input], data, ctx) {
    return applyLayer(tf.layers.leakyReLU({ alpha: data.alpha, name: ctx.name }), input);
  },
  toOnnx(ctx) {
    return emitActivation(ctx.graph, ctx.inputs[0], "leaky_relu", ctx.nodeId, ctx.data.alpha);
  },
});

registerLayerType({
  type: "Softmax",
  gradients: { tfjs: { examples: [{ inputShapes: [[5]], data: {} }] } },
  category: "activation",
  description: "softmax over the channel (last) axis; a graph ending here outputs probabilities",
  inputs: { min: 1, max: 1 },
  dataSchema: z.object({}),
  inferShape: ([input]) => input,
  params: noParams,
  flops: (_inputs, _data, output) => 3 * product(output),
  build([input], _data, ctx) {
    return applyLayer(tf.layers.softmax({ axis: -1, name: ctx.name }), input);
  },
  toOnnx(ctx) {
    return ctx.graph.op("Softmax", ctx.inputs, { axis: 1 }, ctx.nodeId);
  },
});

const dropoutSchema = withAliases({ rate: ["p", "dropout"] }, z.object({ rate: numeric(z.number().min(0).lt(1)).default(0.5) }));

registerLayerType<z.output<typeof dropoutSchema>>({
  type: "Dropout",
  gradients: { tfjs: { examples: [{ inputShapes: [[6]], data: { rate: 0.25 } }] } },
  category: "regularization",
  aliases: ["Dropout2d"],
  description: "dropout while training, identity in inference",
  inputs: { min: 1, max: 1 },
  dataSchema: dropoutSchema,
  inferShape: ([input]) => input,
  params: noParams,
  flops: () => 0,
  build([input], data, ctx) {
    return applyLayer(tf.layers.dropout({ rate: data.rate, seed: ctx.seed, name: ctx.name }), input);
  },
  toOnnx(ctx) {
    return ctx.graph.op("Identity", ctx.inputs, {}, ctx.nodeId);
  },
});

registerLayerType({
  type: "Flatten",
  gradients: { tfjs: { examples: [{ inputShapes: [[2, 2, 3]], data: {} }] } },
  category: "shape",
  description: "[H, W, C] → [H·W·C] in TF.js (NHWC) order",
  inputs: { min: 1, max: 1 },
  dataSchema: z.object({}),
  inferShape: ([input]) => [product(input)],
  params: noParams,
  flops: () => 0,
  build([input], _data, ctx) {
    return applyLayer(tf.layers.flatten({ name: ctx.name }), input);
  },
  toOnnx(ctx) {
    const [input] = ctx.inputs;
    // ONNX tensors are NCHW; go back to NHWC first so the flattened order matches the Dense weights.
    const nhwc = ctx.inputShapes[0].length === 3 ? ctx.graph.op("Transpose", [input], { perm: [0, 2, 3, 1] }, `${ctx.nodeId}_nhwc`) : input;
    return ctx.graph.op("Flatten", [nhwc], { axis: 1 }, ctx.nodeId);
  },
});

const denseSchema = withAliases(
  { units: ["out", "out_features", "outputs"], in_features: ["in"], bias: ["use_bias", "useBias"], activation: ["act"] },
  z.object({
    units: positiveInt,
    in_features: positiveInt.optional(),
    bias: booleanish.default(true),
    activation: activationSchema,
  }),
);
type DenseData = z.output<typeof denseSchema>;

registerLayerType<DenseData>({
  type: "Dense",
  gradients: { tfjs: { examples: [{ inputShapes: [[6]], data: { units: 3 } }, { inputShapes: [[6]], data: { units: 3, bias: false, activation: "silu" } }] } },
  category: "linear",
  aliases: ["Linear", "FullyConnected", "FC"],
  description: "fully connected layer on a vector [F] (put Flatten or GlobalAvgPool before it)",
  inputs: { min: 1, max: 1 },
  dataSchema: denseSchema,
  inferShape([input], data) {
    if (input.length !== 1) {
      throw new LayerError(`needs a vector [F] but receives [${input.join(", ")}]; insert Flatten or GlobalAvgPool before it`);
    }
    if (data.in_features !== undefined && data.in_features !== input[0]) {
      throw new LayerError(`expects ${data.in_features} input features (in_features) but receives ${input[0]}`, "in_features");
    }
    return [data.units];
  },
  params: ([input], data) => ({ trainable: input[0] * data.units + (data.bias ? data.units : 0), nonTrainable: 0 }),
  flops: ([input], data) => 2 * input[0] * data.units,
  build([input], data, ctx) {
    const layer = tf.layers.dense({
      units: data.units,
      useBias: data.bias,
      activation: tfActivation(data.activation),
      kernelInitializer: ctx.initializer("glorot"),
      name: ctx.name,
    });
    return applyLayer(layer, input);
  },
  toOnnx(ctx) {
    const { graph, nodeId } = ctx;
    const [kernel, bias] = ctx.layerWeights();
    const inputs = [ctx.inputs[0], graph.addWeight(`${nodeId}.weight`, kernel.values, kernel.shape, { quantizeAxis: 1 })];
    if (bias) inputs.push(graph.addWeight(`${nodeId}.bias`, bias.values, bias.shape));
    const gemm = graph.op("Gemm", inputs, {}, nodeId);
    return emitActivation(graph, gemm, ctx.data.activation, `${nodeId}_act`);
  },
});
