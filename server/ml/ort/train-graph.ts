// The layer graph → ONE ONNX graph computing forward + loss + backward (detection: with the
// assigner between them, assign-graph.ts).
// Weights and the batch are graph inputs; the loss, the model's output, every trainable weight's
// gradient and the batch statistics that moving averages (BatchNorm) take are outputs. Each node
// type's emitter (emitter.ts) writes its forward ops and keeps on a tape what its backward needs;
// backward runs in reverse topological order, summing the gradients of tensors used more than once.
import { planGraph, type PlannedNode } from "../graph/analyze";
import type { ModelGraph } from "../graph/schema";
import { TrainGraph, type Value } from "./builder";
import { findTrainingEmitter, type BackwardContext, type ChoicePoint, type EmitContext, type TrainingEmitter } from "./emitter";
import { emitClassifyLoss, type ClassifyLossSpec } from "./loss-classify";
import type { GroundTruthInputs } from "./assign-graph";
import { emitDetectLoss, type DetectLossSpec } from "./loss-detect";
import { REG_MAX } from "../detect/dfl";
import type { OrtExecutionProvider } from "./session";
import { inversePermutation, weightLayout, type WeightLayoutMode } from "./weight-layout";
import "./layers/basic";
import "./layers/conv";
import "./layers/pool";
import "./layers/detect";

export type { ClassifyLossSpec } from "./loss-classify";
export type { DetectLossSpec } from "./loss-detect";

export interface WeightInfo {
  /** The TF.js weight's original name, `<node id>/<name>` ("conv1/kernel"). */
  name: string;
  shape: number[];
  trainable: boolean;
}

export interface TrainGraphRequest {
  graph: ModelGraph;
  inputShape: [number, number, number];
  batch: number;
  weights: WeightInfo[];
  loss: ClassifyLossSpec | DetectLossSpec;
  /** The formulation per choice point (choiceKey); absent points take their first candidate. */
  choices?: ReadonlyMap<string, string>;
  /** false: a forward-only inference graph (BatchNorm on its moving statistics), outputs `logits`. */
  training?: boolean;
  /** The execution provider the graph runs on: it narrows the formulations (providerForms). Default cpu. */
  provider?: OrtExecutionProvider;
  /** The channel block of ONNX Runtime's NCHWc CPU kernels (nchwcBlockSize()); absent or 0: they are not used. */
  nchwcBlock?: number;
  /** How weights and their gradients are laid out as graph inputs and outputs (weight-layout.ts); default tfjs. */
  weightLayout?: WeightLayoutMode;
}

export interface TrainGraphIo {
  bytes: Uint8Array;
  /** NHWC float batch [N, H, W, C]. */
  imageInput: string;
  /** classify: [N, K] target distribution (training only). */
  targetInput: string;
  /** detect: the ground truth boxes the graph assigns (training only). */
  detectInputs?: GroundTruthInputs;
  /** Weights the graph reads, by their TF.js name (= graph input name). */
  weightInputs: string[];
  lossOutput: string;
  /** The loss and its parts (detect: box_loss, cls_loss, dfl_loss) by name. */
  lossOutputs: Record<string, string>;
  /** The model's output: classify logits [N, K], detect raw [N, anchors, 4·reg_max + nc]. */
  logitsOutput: string;
  grads: { weight: string; output: string }[];
  /** Σ g² over every gradient, computed in the graph (global-norm clipping without a JavaScript pass). */
  gradSquaredNorm: string;
  movingAverages: { weight: string; output: string; momentum: number }[];
  /** Dropout masks to feed before every run. */
  masks: { input: string; dims: number[]; rate: number }[];
  /** Every formulation choice the graph made, with the candidates it had. */
  points: ChoicePoint[];
  choicesMade: Map<string, string>;
}

export class OrtGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OrtGraphError";
  }
}

/**
 * The formulations worth timing on a provider. On CUDA the slicing forms (one small kernel per tap)
 * lose to cuDNN's own: input gradients as ConvTranspose (backward-data), filter gradients as one
 * large GEMM or convolution ("gemm", "conv", "im2col"; depthwise "depthwise_conv"). The CPU times all.
 */
export function providerForms<T extends string>(kind: ChoicePoint["kind"], candidates: T[], provider: OrtExecutionProvider): T[] {
  if (provider !== "cuda") return candidates;
  const preferred: Record<string, string[]> = { "conv-fwd": ["nchw"], "conv-dx": ["convT"], "conv-dw": ["gemm", "conv", "im2col", "depthwise_conv"] };
  const kept = candidates.filter((c) => preferred[kind]?.includes(c) ?? true);
  return kept.length > 0 ? kept : candidates;
}

/** A stable key of a choice point: kind and every dimension of the layer shape. */
export function choiceKey(point: Pick<ChoicePoint, "kind" | "spec">): string {
  const s = point.spec;
  const dilation = s.dilation ? `d${s.dilation.join("x")}` : "";
  return `${point.kind}:n${s.n}c${s.c}h${s.h}w${s.w}o${s.co}k${s.kh}x${s.kw}s${s.sh}x${s.sw}p${s.pads.join(",")}g${s.group}${dilation}`;
}

/** Why this graph cannot train on ONNX Runtime (a layer type or configuration without emitters), or null. */
export function ortTrainingSupport(graph: ModelGraph, inputShape: [number, number, number]): string | null {
  const plan = planGraph(graph, inputShape);
  for (const planned of plan.nodes) {
    const emitter = findTrainingEmitter(planned.def.type);
    if (!emitter) return `layer type ${planned.def.type} (node "${planned.node.id}") has no ONNX training emitter yet`;
    const reason = emitter.unsupported?.(planned.data, planned.inputShapes);
    if (reason) return `node "${planned.node.id}" (${planned.def.type}): ${reason}`;
  }
  if (plan.outputIds.length !== 1) return `the graph has ${plan.outputIds.length} outputs; training takes one`;
  return null;
}

/** Why the model's output cannot feed this loss, or null. */
function outputMismatch(output: Value, loss: TrainGraphRequest["loss"]): string | null {
  const shape = output.shape.slice(1);
  if (loss.kind === "classify") return shape.length === 1 && shape[0] === loss.numClasses ? null : `the graph's output [${shape.join(", ")}] does not fit ${loss.numClasses} classes`;
  const channels = 4 * (loss.regMax ?? REG_MAX) + loss.numClasses;
  return shape.length === 2 && shape[1] === channels ? null : `the graph's output [${shape.join(", ")}] is not a detection head's [anchors, ${channels}]`;
}

/** ReLU → MaxPool pairs where the pool may apply the ReLU's mask (the ReLU output feeds only the pool). */
function reluPoolFolds(plan: PlannedNode[]): { folded: Set<string>; pools: Set<string> } {
  const consumers = new Map<string, string[]>();
  for (const p of plan) for (const id of p.inputIds) consumers.set(id, [...(consumers.get(id) ?? []), p.node.id]);
  const byId = new Map(plan.map((p) => [p.node.id, p]));
  const folded = new Set<string>();
  const pools = new Set<string>();
  for (const p of plan) {
    if (p.def.type !== "MaxPool") continue;
    const source = byId.get(p.inputIds[0])!;
    const activation = findTrainingEmitter(source.def.type)?.outputActivation?.(source.data);
    if (activation === "relu" && consumers.get(source.node.id)?.length === 1) {
      folded.add(source.node.id);
      pools.add(p.node.id);
    }
  }
  return { folded, pools };
}

export function buildTrainingGraph(request: TrainGraphRequest): TrainGraphIo {
  const { inputShape, batch, loss } = request;
  const training = request.training ?? true;
  const plan = planGraph(request.graph, inputShape);
  if (plan.outputIds.length !== 1) throw new OrtGraphError(`the graph has ${plan.outputIds.length} outputs; training takes one`);
  const weights = new Map(request.weights.map((w) => [w.name, w]));
  const g = new TrainGraph();
  const imageInput = g.input("images", [batch, ...inputShape]);

  const usedWeights = new Set<string>();
  const layoutViews = new Map<string, string>();
  const weightInputs: string[] = [];
  const paramsOf = new Map<string, Set<string>>();
  const movingAverages: TrainGraphIo["movingAverages"] = [];
  const masks: TrainGraphIo["masks"] = [];
  const points: ChoicePoint[] = [];
  const choicesMade = new Map<string, string>();
  const grads = new Map<string, string>();
  const { folded, pools } = training ? reluPoolFolds(plan.nodes) : { folded: new Set<string>(), pools: new Set<string>() };
  const nchwcBlock = (request.provider ?? "cpu") === "cpu" ? (request.nchwcBlock ?? 0) : 0;

  const values = new Map<string, Value>();
  const tapes = new Map<string, unknown>();
  const contexts = new Map<string, EmitContext<unknown>>();

  for (const planned of plan.nodes) {
    const { node, def } = planned;
    const emitter = findTrainingEmitter(def.type);
    if (!emitter) throw new OrtGraphError(`layer type ${def.type} (node "${node.id}") has no ONNX training emitter yet`);
    const reason = emitter.unsupported?.(planned.data, planned.inputShapes);
    if (reason) throw new OrtGraphError(`node "${node.id}" (${def.type}): ${reason}`);
    const inputs = def.type === "Input" ? [{ name: imageInput, shape: [batch, ...inputShape] }] : planned.inputIds.map((id) => values.get(id)!);
    const used = new Set<string>();
    paramsOf.set(node.id, used);
    const paramOf = (layer: string, name: string) => {
      const full = `${layer}/${name}`;
      const weight = weights.get(full);
      if (!weight) throw new OrtGraphError(`node "${node.id}" (${def.type}) needs the weight ${full}, which the model does not have`);
      if (!usedWeights.has(full)) {
        usedWeights.add(full);
        weightInputs.push(full);
        const perm = weightLayout(weight, request.weightLayout);
        g.input(full, perm ? perm.map((axis) => weight.shape[axis]) : weight.shape);
        // Emitters read the TF.js layout; ORT cancels this transpose against theirs into the ONNX layout.
        if (perm) layoutViews.set(full, g.transpose(full, inversePermutation(perm)));
      }
      if (weight.trainable) used.add(full);
      return layoutViews.get(full) ?? full;
    };
    const movingAverageOf = (layer: string, name: string, tensor: string, dims: number[], momentum: number) => {
      const full = `${layer}/${name}`;
      if (!weights.has(full)) throw new OrtGraphError(`node "${node.id}" keeps a moving average ${full}, which the model does not have`);
      movingAverages.push({ weight: full, output: g.output(`stat:${full}`, tensor, dims), momentum });
    };
    const ctx: EmitContext<unknown> = {
      g,
      nodeId: node.id,
      data: planned.data,
      inputs,
      inputShapes: planned.inputShapes,
      outputShape: planned.outputShape,
      batch,
      training,
      reluFoldedIntoConsumer: folded.has(node.id),
      reluFoldedFromInput: pools.has(node.id),
      nchwcBlock,
      param: (name) => paramOf(node.id, name),
      paramOf,
      movingAverage: (name, tensor, dims, momentum) => movingAverageOf(node.id, name, tensor, dims, momentum),
      movingAverageOf,
      dropoutMask(dims, rate) {
        const name = g.input(`mask:${node.id}`, dims);
        masks.push({ input: name, dims, rate });
        return name;
      },
      choose(kind, spec, all) {
        const candidates = providerForms(kind, all, request.provider ?? "cpu");
        if (candidates.length === 0) throw new OrtGraphError(`node "${node.id}": no ${kind} formulation for this configuration`);
        const key = choiceKey({ kind, spec });
        if (!choicesMade.has(key)) points.push({ kind, spec, candidates: [...candidates], ...(nchwcBlock ? { nchwcBlock } : {}) });
        const wanted = request.choices?.get(key);
        const choice = (wanted && (candidates as string[]).includes(wanted) ? wanted : candidates[0]) as (typeof candidates)[number];
        choicesMade.set(key, choice);
        return choice;
      },
    };
    g.scope = `${node.id}.fwd`;
    const { output, tape } = (emitter as TrainingEmitter).forward(ctx);
    values.set(node.id, output);
    tapes.set(node.id, tape);
    contexts.set(node.id, ctx);
  }

  const outputId = plan.outputIds[0];
  const logits = values.get(outputId)!;
  const mismatch = outputMismatch(logits, loss);
  if (mismatch) throw new OrtGraphError(mismatch);
  const logitsOutput = g.output("logits", logits.name, logits.shape);
  const common = { imageInput, weightInputs, logitsOutput, movingAverages, masks, points, choicesMade };
  if (!training) {
    return { ...common, bytes: g.toBytes("inference"), targetInput: "", lossOutput: "", lossOutputs: {}, grads: [], gradSquaredNorm: "" };
  }

  // ---- loss and its gradient with respect to the model's output
  g.scope = "loss";
  let targetInput = "";
  let detectInputs: GroundTruthInputs | undefined;
  let dLogits: string;
  let lossOutputs: Record<string, string>;
  if (loss.kind === "classify") {
    const emitted = emitClassifyLoss(g, loss, logits);
    targetInput = emitted.targets;
    lossOutputs = emitted.outputs;
    dLogits = emitted.dLogits;
  } else {
    const emitted = emitDetectLoss(g, loss, logits);
    detectInputs = emitted.inputs;
    lossOutputs = emitted.outputs;
    dLogits = emitted.dRaw;
  }

  // ---- backward, in reverse topological order
  const requiresGrad = new Map<string, boolean>();
  for (const planned of plan.nodes) {
    const own = paramsOf.get(planned.node.id)!.size > 0;
    requiresGrad.set(planned.node.id, own || planned.inputIds.some((id) => requiresGrad.get(id)));
  }
  const incoming = new Map<string, string[]>([[outputId, [dLogits]]]);
  for (const planned of [...plan.nodes].reverse()) {
    const id = planned.node.id;
    const terms = incoming.get(id);
    if (!terms || !requiresGrad.get(id)) continue;
    g.scope = `${id}.bwd`;
    const dy = g.sum(terms);
    const base = contexts.get(id)!;
    const needInputGrad = planned.def.type === "Input" ? [] : planned.inputIds.map((input) => requiresGrad.get(input)!);
    const gradOf = (layer: string, name: string, tensor: string) => {
      const full = `${layer}/${name}`;
      if (grads.has(full)) throw new OrtGraphError(`node "${id}" records the gradient of ${full} twice`);
      grads.set(full, tensor);
    };
    const ctx: BackwardContext<unknown> = { ...base, needInputGrad, grad: (name, tensor) => gradOf(id, name, tensor), gradOf };
    const emitter = findTrainingEmitter(planned.def.type)! as TrainingEmitter;
    const dxs = emitter.backward(ctx, tapes.get(id), dy);
    dxs.forEach((dx, i) => {
      if (dx === null || !needInputGrad[i]) return;
      const source = planned.inputIds[i];
      incoming.set(source, [...(incoming.get(source) ?? []), dx]);
    });
  }

  const gradOutputs: TrainGraphIo["grads"] = [];
  for (const weight of request.weights) {
    if (!weight.trainable) continue;
    const tensor = grads.get(weight.name);
    if (!tensor) {
      const why = usedWeights.has(weight.name) ? "gets no gradient" : "is not used by any training emitter";
      throw new OrtGraphError(`trainable weight ${weight.name} ${why}`);
    }
    const perm = weightLayout(weight, request.weightLayout);
    const stored = perm ? g.transpose(tensor, perm) : tensor;
    grads.set(weight.name, stored);
    gradOutputs.push({ weight: weight.name, output: g.output(`grad:${weight.name}`, stored, perm ? perm.map((axis) => weight.shape[axis]) : weight.shape) });
  }
  g.scope = "clip";
  const squares = [...gradOutputs].map(({ weight }) => g.op("ReduceSumSquare", [grads.get(weight)!], { keepdims: 0 }));
  const gradSquaredNorm = g.output("grad_squared_norm", squares.length > 0 ? g.sum(squares) : g.f32(0), []);
  const io = { ...common, targetInput, detectInputs, lossOutput: lossOutputs.loss, lossOutputs, grads: gradOutputs, gradSquaredNorm };
  return { ...io, bytes: g.toBytes("train") };
}
