import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { onnxFloat, type OnnxGraph } from "../../export/onnx-graph";
import { LayerError, type LayerWeight, type Shape } from "../registry";

/**
 * Accepts the old studio's short keys and PyTorch's names next to ours: the first key of each
 * list that is present is copied to the canonical name (when that is absent).
 */
export function withAliases<T extends z.ZodType>(aliases: Record<string, string[]>, schema: T) {
  return z.preprocess((raw) => {
    const data: Record<string, unknown> = { ...((raw ?? {}) as Record<string, unknown>) };
    for (const [canonical, others] of Object.entries(aliases)) {
      if (data[canonical] !== undefined) continue;
      const found = others.find((key) => data[key] !== undefined);
      if (found !== undefined) data[canonical] = data[found];
    }
    return data;
  }, schema);
}

/** Editors often send numbers as strings; accept "3" as 3 (but keep a missing value missing). */
export function numeric<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), schema);
}
export const positiveInt = numeric(z.number().int().positive());
export const nonNegativeInt = numeric(z.number().int().nonnegative());

/** true/false, also as the strings "true"/"false" that form inputs send. */
export const booleanish = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

/** An int or [h, w] pair, normalised to [h, w]. */
export const intPair = z
  .union([positiveInt, z.tuple([positiveInt, positiveInt])])
  .transform((v): [number, number] => (Array.isArray(v) ? v : [v, v]));

export type Padding = { mode: "same" } | { mode: "valid" } | { mode: "explicit"; pads: [number, number] };

/** 'same' | 'valid' | int | [ph, pw] (symmetric explicit zero padding, PyTorch style). */
export const paddingSchema = z
  .union([
    z.enum(["same", "valid"]),
    nonNegativeInt,
    z.tuple([nonNegativeInt, nonNegativeInt]),
  ])
  .transform((v): Padding => {
    if (v === "same" || v === "valid") return { mode: v };
    const pads: [number, number] = Array.isArray(v) ? v : [v, v];
    return pads[0] === 0 && pads[1] === 0 ? { mode: "valid" } : { mode: "explicit", pads };
  });

export const FUSED_ACTIVATIONS = ["linear", "relu", "relu6", "silu", "sigmoid", "tanh"] as const;
export type FusedActivation = (typeof FUSED_ACTIVATIONS)[number];

const ACTIVATION_ALIASES: Record<string, FusedActivation> = { none: "linear", identity: "linear", swish: "silu" };

export const activationSchema = z.preprocess(
  (v) => (typeof v === "string" ? (ACTIVATION_ALIASES[v.toLowerCase()] ?? v.toLowerCase()) : v ?? "linear"),
  z.enum(FUSED_ACTIVATIONS),
);

export function tfActivation(activation: FusedActivation): Exclude<FusedActivation, "silu"> | "swish" {
  return activation === "silu" ? "swish" : activation;
}

/** Emits an activation on `input` and returns the output (the input itself for linear). */
export function emitActivation(graph: OnnxGraph, input: string, activation: FusedActivation | "leaky_relu", name: string, alpha = 0.01): string {
  switch (activation) {
    case "linear":
      return input;
    case "relu":
      return graph.op("Relu", [input], {}, name);
    case "relu6":
      return graph.op("Clip", [input, graph.constFloat(`${name}_min`, [0], []), graph.constFloat(`${name}_max`, [6], [])], {}, name);
    case "sigmoid":
      return graph.op("Sigmoid", [input], {}, name);
    case "tanh":
      return graph.op("Tanh", [input], {}, name);
    case "silu":
      return graph.op("Mul", [input, graph.op("Sigmoid", [input], {}, `${name}_sigmoid`)], {}, name);
    case "leaky_relu":
      return graph.op("LeakyRelu", [input], { alpha: onnxFloat(alpha) }, name);
  }
}

export function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

export function requireImage(shape: Shape, what: string): [number, number, number] {
  if (shape.length !== 3) {
    throw new LayerError(`${what} needs an image tensor [H, W, C] but gets [${shape.join(", ")}]`);
  }
  return shape as [number, number, number];
}

/** Output size of a sliding window along one axis, as TF.js computes it. */
export function windowOutputSize(input: number, kernel: number, stride: number, dilation: number, padding: Padding, axis: 0 | 1): number {
  const effective = (kernel - 1) * dilation + 1;
  if (padding.mode === "same") return Math.ceil(input / stride);
  const padded = padding.mode === "explicit" ? input + 2 * padding.pads[axis] : input;
  return Math.floor((padded - effective) / stride) + 1;
}

/** Output [H, W] of a window op; throws when the spatial size collapses to 0. */
export function windowOutput(
  shape: [number, number, number],
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
  padding: Padding,
): [number, number] {
  const h = windowOutputSize(shape[0], kernel[0], stride[0], dilation[0], padding, 0);
  const w = windowOutputSize(shape[1], kernel[1], stride[1], dilation[1], padding, 1);
  if (h <= 0 || w <= 0) {
    throw new LayerError(
      `spatial size collapses to ${Math.max(h, 0)}x${Math.max(w, 0)} (input ${shape[0]}x${shape[1]}, kernel ${kernel.join("x")}, stride ${stride.join("x")})`,
      "kernel_size",
    );
  }
  return [h, w];
}

/** ONNX pads [top, left, bottom, right] reproducing TF's padding (for 'same' the extra pixel goes at the end). */
export function onnxPads(
  shape: Shape,
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
  padding: Padding,
): number[] {
  if (padding.mode === "valid") return [0, 0, 0, 0];
  if (padding.mode === "explicit") return [padding.pads[0], padding.pads[1], padding.pads[0], padding.pads[1]];
  const total = [0, 1].map((axis) => {
    const out = Math.ceil(shape[axis] / stride[axis]);
    const effective = (kernel[axis] - 1) * dilation[axis] + 1;
    return Math.max((out - 1) * stride[axis] + effective - shape[axis], 0);
  });
  return [Math.floor(total[0] / 2), Math.floor(total[1] / 2), total[0] - Math.floor(total[0] / 2), total[1] - Math.floor(total[1] / 2)];
}

/** How TF.js realises a window op's padding: an explicit pad in front (or none), then TF's own 'same' or 'valid'. */
export interface TfPadding {
  /** [[top, bottom], [left, right]] to pad before the op, or null. */
  pads: [[number, number], [number, number]] | null;
  tfPadding: "same" | "valid";
}

/**
 * PyTorch's symmetric padding on TF.js, whose convs and pools only know 'same' and 'valid'. Where
 * 'same' pads exactly p on every side (stride 1, odd sizes at stride 2) it is used as is, with no
 * extra op; elsewhere (stride 2 on even sizes, where 'same' puts the padding at the end) the input
 * is padded first and the op runs 'valid'. Only for ops where 'same' and explicit padding agree
 * (convolutions, max pooling), not for average pooling.
 */
export function tfWindowPadding(
  shape: Shape,
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
  padding: Padding,
): TfPadding {
  if (padding.mode !== "explicit") return { pads: null, tfPadding: padding.mode };
  const [ph, pw] = padding.pads;
  const [top, left, bottom, right] = onnxPads(shape, kernel, stride, dilation, { mode: "same" });
  if (top === ph && bottom === ph && left === pw && right === pw) return { pads: null, tfPadding: "same" };
  return { pads: [[ph, ph], [pw, pw]], tfPadding: "valid" };
}

/** TF.js conv kernel [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
export function hwioToOihw(weight: LayerWeight): { values: Float32Array; dims: number[] } {
  const [kh, kw, cin, cout] = weight.shape;
  const values = new Float32Array(weight.values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          values[((o * cin + i) * kh + y) * kw + x] = weight.values[((y * kw + x) * cin + i) * cout + o];
        }
  return { values, dims: [cout, cin, kh, kw] };
}

/** Pixel-wise cost of an elementwise op: one FLOP per output element. */
export const elementwiseFlops = (_inputs: Shape[], _data: unknown, output: Shape) => product(output);

export const noParams = () => ({ trainable: 0, nonTrainable: 0 });

export function applyLayer(layer: tf.layers.Layer, input: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(input) as tf.SymbolicTensor;
}
