// Training emitters: per layer type of the graph registry (graph/registry.ts), how its forward pass
// is written as ONNX ops — recording on a tape what its backward needs — and how its backward is.
// Kept beside the registry rather than in it so that the TF.js engine does not load any of this.
import type { Shape } from "../graph/registry";
import type { TrainGraph, Value } from "./builder";
import type { ConvSpec } from "./conv-grads";

/**
 * A place where the generator picks one of several exact formulations (formulations.ts times them).
 * `spec` is the layer's shape as a ConvSpec (pools: co = c, group 1).
 */
export interface ChoicePoint {
  kind: "conv-fwd" | "conv-dw" | "conv-dx" | "maxpool" | "avgpool";
  spec: ConvSpec;
  candidates: string[];
  /** The NCHWc kernels' channel block the NCHWc candidates are written for. */
  nchwcBlock?: number;
}

export interface EmitContext<D> {
  g: TrainGraph;
  nodeId: string;
  data: D;
  /** The node's inputs as graph tensors (NCHW images, batch first). */
  inputs: Value[];
  /** The same shapes as the layer graph states them: [H, W, C] or [F], no batch. */
  inputShapes: Shape[];
  outputShape: Shape;
  batch: number;
  /** true: batch statistics, tape recorded; false: inference (BatchNorm with its moving statistics). */
  training: boolean;
  /** The graph input carrying this layer's weight `<node id>/<name>` (TF.js layout, e.g. HWIO kernels). */
  param(name: string): string;
  /** The weight `<layer>/<name>` of a TF.js layer this node was built as (grouped convs, the Detect head's convs). */
  paramOf(layer: string, name: string): string;
  /** Declares an extra output: a moving average `<node id>/<name>` updated from `tensor` with `momentum` (Keras sense). */
  movingAverage(name: string, tensor: string, dims: number[], momentum: number): void;
  /** The same for the weight `<layer>/<name>`. */
  movingAverageOf(layer: string, name: string, tensor: string, dims: number[], momentum: number): void;
  /**
   * A graph input `mask:<node id>` of `dims` that the trainer fills before every run with a fresh
   * dropout mask: 0 with probability `rate`, else 1/(1 − rate).
   */
  dropoutMask(dims: number[], rate: number): string;
  /** The channel block of ONNX Runtime's NCHWc kernels the graph may use (0: none; CPU provider only). */
  nchwcBlock: number;
  /** One of `candidates` for this choice point (the measured fastest, or the first). */
  choose<T extends string>(kind: ChoicePoint["kind"], spec: ConvSpec, candidates: T[]): T;
  /** This node's output ReLU is skipped in backward: the MaxPool consuming it masks its gradient instead. */
  readonly reluFoldedIntoConsumer: boolean;
  /** This MaxPool's input went through a ReLU whose mask it applies on the pooled gradient. */
  readonly reluFoldedFromInput: boolean;
}

export interface BackwardContext<D> extends EmitContext<D> {
  /** Whether each input needs a gradient (false for the image and anything computed from it alone). */
  needInputGrad: boolean[];
  /** Records the gradient of `<node id>/<name>` (same layout as the weight). */
  grad(name: string, tensor: string): void;
  /** Records the gradient of `<layer>/<name>`. */
  gradOf(layer: string, name: string, tensor: string): void;
}

export interface TrainingEmitter<D = unknown, T = unknown> {
  /** The registry type this emits (LayerTypeDef.type). */
  type: string;
  /** Why this node's configuration has no training graph (null: it has). */
  unsupported?(data: D, inputShapes: Shape[]): string | null;
  /** The activation applied at this node's output, when it is fused into the node (Conv2d/Dense activation). */
  outputActivation?(data: D): string;
  forward(ctx: EmitContext<D>): { output: Value; tape: T };
  /** Gradients of the inputs (null where not needed); parameter gradients go through ctx.grad. */
  backward(ctx: BackwardContext<D>, tape: T, dy: string): (string | null)[];
}

const emitters = new Map<string, TrainingEmitter>();

export function registerTrainingEmitter<D, T>(emitter: TrainingEmitter<D, T>): void {
  emitters.set(emitter.type, emitter as unknown as TrainingEmitter);
}

export function findTrainingEmitter(type: string): TrainingEmitter | undefined {
  return emitters.get(type);
}

export function trainingEmitterTypes(): string[] {
  return [...emitters.keys()];
}
