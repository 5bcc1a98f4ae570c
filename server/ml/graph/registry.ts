import type * as tf from "@tensorflow/tfjs";
import type { z } from "zod";
import type { OnnxGraph } from "../export/onnx-graph";

/** A tensor shape without the batch axis: [H, W, C] for images, [F] for vectors. */
export type Shape = number[];

export interface ParamCount {
  trainable: number;
  nonTrainable: number;
}

/** What `build` gets besides its inputs: the layer name (= node id) and seeded initialisers. */
export interface BuildContext {
  name: string;
  inputShapes: Shape[];
  /** A seed for this layer's own randomness (dropout), derived from the model seed and the name. */
  seed: number;
  /** A seeded initialiser, distinct per layer name, identical across runs with the same seed. */
  initializer(kind: "he" | "glorot", layerName?: string): ReturnType<typeof tf.initializers.heNormal>;
}

/** One tensor of a trained layer, in the TF.js layout (conv kernels HWIO). */
export interface LayerWeight {
  name: string;
  values: Float32Array;
  shape: number[];
}

/** What `toOnnx` gets: the ONNX builder, the names of its input tensors (NCHW), shapes and trained weights. */
export interface OnnxNodeContext<D> {
  graph: OnnxGraph;
  nodeId: string;
  data: D;
  inputs: string[];
  inputShapes: Shape[];
  outputShape: Shape;
  opset: number;
  /** Weights of the TF.js layer `layerName` (default: the node id), in `layer.getWeights()` order. */
  layerWeights(layerName?: string): LayerWeight[];
}

/** A small instance of a node type: its input shapes (no batch axis) and its data, as a graph would give them. */
export interface GradientExample {
  inputShapes: Shape[];
  data: Record<string, unknown>;
}

/**
 * How the TF.js engine trains through a node type: instances whose backward pass the gradient-coverage
 * check runs (cover each variant that builds differently: explicit padding, strides, groups…), or why
 * no gradient flows through it.
 */
export type TfjsGradients = { examples: GradientExample[] } | { none: string };

/** Palette groups of the model builder. */
export const LAYER_CATEGORIES = ["input", "convolution", "normalization", "activation", "pooling", "merge", "shape", "linear", "regularization", "block", "head"] as const;
export type LayerCategory = (typeof LAYER_CATEGORIES)[number];

/** A node type: validation, shape inference, cost, TF.js construction and ONNX emission in one place. */
export interface LayerTypeDef<D = unknown> {
  type: string;
  aliases?: string[];
  description: string;
  category: LayerCategory;
  /** How many incoming edges the node accepts. */
  inputs: { min: number; max: number };
  dataSchema: z.ZodType<D>;
  inferShape(inputShapes: Shape[], data: D): Shape;
  params(inputShapes: Shape[], data: D, outputShape: Shape): ParamCount;
  /** Floating-point operations for one sample; see graph/README convention in analyze.ts. */
  flops(inputShapes: Shape[], data: D, outputShape: Shape): number;
  build(inputs: tf.SymbolicTensor[], data: D, ctx: BuildContext): tf.SymbolicTensor;
  /** Emits ONNX nodes and returns the name of the output tensor. */
  toOnnx(ctx: OnnxNodeContext<D>): string;
  /** Optional so a type type-checks while it is written; gradient-coverage.test.ts fails for a type without it. */
  gradients?: { tfjs: TfjsGradients };
  /** What the layer is made of, for an editor to unfold (the Detect head's branches); display only. */
  innerView?(inputShapes: Shape[], data: D): InnerRow[];
}

/** One row of a layer's inside as an editor shows it (ids are local to the layer). */
export interface InnerRow {
  id: string;
  type: string;
  outputShape: Shape;
  params: number;
  trainableParams: number;
  flops: number;
  inputs: string[];
}

/** Thrown by a definition's `inferShape`; analyzeGraph turns it into a GraphError naming the node. */
export class LayerError extends Error {
  constructor(
    message: string,
    public field?: string,
  ) {
    super(message);
    this.name = "LayerError";
  }
}

const definitions = new Map<string, LayerTypeDef>();
const byLowerName = new Map<string, LayerTypeDef>();

export function registerLayerType<D>(def: LayerTypeDef<D>): void {
  const stored = def as unknown as LayerTypeDef;
  definitions.set(def.type, stored);
  for (const name of [def.type, ...(def.aliases ?? [])]) byLowerName.set(name.toLowerCase(), stored);
}

/** Looks a type up by name or alias, case-insensitively. */
export function findLayerType(type: string): LayerTypeDef | undefined {
  return byLowerName.get(type.toLowerCase());
}

export function layerTypeNames(): string[] {
  return [...definitions.keys()];
}

export function layerTypes(): LayerTypeDef[] {
  return [...definitions.values()];
}
