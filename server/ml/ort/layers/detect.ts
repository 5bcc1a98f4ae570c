// The YOLOv8 Detect head (detect/head.ts): per level a box and a class branch of Conv-BN-SiLU,
// Conv-BN-SiLU, Conv(1×1, bias), joined along channels, the levels flattened and concatenated into
// the raw [anchors, 4·reg_max + nc] output. Written with the Conv2d and BatchNorm emitters on the
// TF.js layers the head builds (their weights keep their names); the two branches' first layers,
// which read the same feature map, run as one conv, BatchNorm and SiLU over both.
import type { Shape } from "../../graph/registry";
import { BN_EPS, BN_MOMENTUM, levelConvs, type DetectHeadData, type HeadConv } from "../../detect/head";
import type { Value } from "../builder";
import { findTrainingEmitter, registerTrainingEmitter, type BackwardContext, type EmitContext, type TrainingEmitter } from "../emitter";
import { activationBackward, activationForward, type ActivationTape } from "./activation";

/**
 * One conv or BatchNorm of the graph standing for `layers`, TF.js layers side by side along their
 * filters (`widths` each): the first conv of the box and the class branch read the same input, so
 * they run as one conv, one BatchNorm and one SiLU over both branches' channels.
 */
type Step = { kind: "conv" | "bn"; ctx: EmitContext<unknown>; tape: unknown; layers: string[]; widths: number[] } | { kind: "silu"; tape: ActivationTape };

interface LevelTape {
  /** The fused first Conv-BN-SiLU of both branches, then each branch's own layers. */
  stem: Step[];
  branches: { steps: Step[]; channels: number }[];
  widths: number[];
  shape: number[];
}

const emitter = (type: string) => findTrainingEmitter(type) as TrainingEmitter;

/** The axis along which the weight `name` of side-by-side layers joins: HWIO kernels by their filters, vectors whole. */
const joinAxis = (name: string) => (name === "kernel" ? 3 : 0);

/** Splits `tensor` (joined along `axis`) into the layers' parts and hands each on. */
function perLayer(ctx: EmitContext<DetectHeadData>, layers: string[], widths: number[], tensor: string, axis: number, use: (layer: string, part: string) => void): void {
  const parts = layers.length === 1 ? [tensor] : ctx.g.ops("Split", [tensor, ctx.g.i64(widths)], layers.length, { axis });
  layers.forEach((layer, i) => use(layer, parts[i]));
}

/** A context for TF.js layers run as one: their own weights joined, their moving averages apart, their shapes. */
function layerContext<D>(ctx: EmitContext<DetectHeadData>, layers: string[], widths: number[], data: D, input: Value, inputShape: Shape, outputShape: Shape): EmitContext<unknown> {
  const { g } = ctx;
  return {
    ...ctx,
    nodeId: layers.join("+"),
    data,
    inputs: [input],
    inputShapes: [inputShape],
    outputShape,
    param: (name) => (layers.length === 1 ? ctx.paramOf(layers[0], name) : g.op("Concat", layers.map((layer) => ctx.paramOf(layer, name)), { axis: joinAxis(name) })),
    movingAverage: (name, tensor, _dims, momentum) => perLayer(ctx, layers, widths, tensor, 0, (layer, part) => ctx.movingAverageOf(layer, name, part, [widths[layers.indexOf(layer)]], momentum)),
    reluFoldedIntoConsumer: false,
    reluFoldedFromInput: false,
  };
}

function convData(filters: number, conv: HeadConv) {
  return { filters, kernel_size: [conv.kernel, conv.kernel], stride: [1, 1], padding: { mode: "same" }, dilation: [1, 1], groups: 1, bias: !conv.normalized, activation: "linear" };
}

/** Conv (+ BN + SiLU) of the layers `convs`, all reading `x` (one conv, or several side by side). */
function convForward(ctx: EmitContext<DetectHeadData>, x: Value, convs: HeadConv[], steps: Step[]): Value {
  const [n, , h, w] = x.shape;
  const layers = convs.map((c) => c.name);
  const widths = convs.map((c) => c.filters);
  const filters = widths.reduce((a, b) => a + b, 0);
  const convCtx = layerContext(ctx, layers, widths, convData(filters, convs[0]), x, [h, w, convs[0].inChannels], [h, w, filters]);
  const out = emitter("Conv2d").forward(convCtx);
  steps.push({ kind: "conv", ctx: convCtx, tape: out.tape, layers, widths });
  if (!convs[0].normalized) return out.output;
  const bnLayers = layers.map((layer) => `${layer}_bn`);
  const bnCtx = layerContext(ctx, bnLayers, widths, { eps: BN_EPS, momentum: BN_MOMENTUM }, out.output, [h, w, filters], [h, w, filters]);
  const bn = emitter("BatchNorm").forward(bnCtx);
  steps.push({ kind: "bn", ctx: bnCtx, tape: bn.tape, layers: bnLayers, widths });
  const silu = activationForward(ctx.g, "silu", bn.output.name);
  steps.push({ kind: "silu", tape: silu });
  return { name: silu.y, shape: [n, filters, h, w] };
}

function stepsBackward(ctx: BackwardContext<DetectHeadData>, steps: Step[], dy: string, needInput: boolean): string | null {
  let d: string | null = dy;
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    if (step.kind === "silu") {
      d = activationBackward(ctx.g, step.tape, d!);
      continue;
    }
    const type = step.kind === "conv" ? "Conv2d" : "BatchNorm";
    const grad = (name: string, tensor: string) => perLayer(ctx, step.layers, step.widths, tensor, joinAxis(name), (layer, part) => ctx.gradOf(layer, name, part));
    const backCtx: BackwardContext<unknown> = { ...step.ctx, needInputGrad: [i > 0 || needInput], grad, gradOf: ctx.gradOf };
    [d] = emitter(type).backward(backCtx, step.tape, d!);
    if (d === null) return null;
  }
  return d;
}

registerTrainingEmitter<DetectHeadData, LevelTape[]>({
  type: "Detect",
  unsupported: (_data, inputs) => (inputs.every((s) => s.length === 3) ? null : "needs feature maps [H, W, C]"),
  forward(ctx) {
    const { g, data } = ctx;
    const channels = 4 * data.reg_max + data.nc;
    const first = ctx.inputShapes[0][2];
    const tapes: LevelTape[] = [];
    const flat = ctx.inputs.map((x, level) => {
      const [n, c, h, w] = x.shape;
      const branchConvs = levelConvs(ctx.nodeId, level, c, first, data);
      const stem: Step[] = [];
      const widths = branchConvs.map((convs) => convs[0].filters);
      const joined = convForward(ctx, x, branchConvs.map((convs) => convs[0]), stem);
      const starts = g.ops("Split", [joined.name, g.i64(widths)], widths.length, { axis: 1 });
      const branches = branchConvs.map((convs, i) => {
        const steps: Step[] = [];
        let y: Value = { name: starts[i], shape: [n, widths[i], h, w] };
        for (const conv of convs.slice(1)) y = convForward(ctx, y, [conv], steps);
        return { steps, y };
      });
      tapes.push({ stem, branches: branches.map((b) => ({ steps: b.steps, channels: b.y.shape[1] })), widths, shape: [n, c, h, w] });
      return g.reshape(g.op("Concat", branches.map((b) => b.y.name), { axis: 1 }), [n, channels, h * w]);
    });
    const joined = flat.length === 1 ? flat[0] : g.op("Concat", flat, { axis: 2 });
    const anchors = ctx.inputs.reduce((sum, x) => sum + x.shape[2] * x.shape[3], 0);
    return { output: { name: g.transpose(joined, [0, 2, 1]), shape: [ctx.batch, anchors, channels] }, tape: tapes };
  },
  backward(ctx, tapes, dy) {
    const { g } = ctx;
    const perLevel = tapes.map((t) => t.shape[2] * t.shape[3]);
    const dyt = g.transpose(dy, [0, 2, 1]); // [n, channels, anchors]
    const levels = tapes.length === 1 ? [dyt] : g.ops("Split", [dyt, g.i64(perLevel)], tapes.length, { axis: 2 });
    return tapes.map((tape, level) => {
      const [n, , h, w] = tape.shape;
      const d = g.reshape(levels[level], [n, tape.branches[0].channels + tape.branches[1].channels, h, w]);
      const parts = g.ops("Split", [d, g.i64(tape.branches.map((b) => b.channels))], 2, { axis: 1 });
      const dStarts = tape.branches.map((branch, i) => stepsBackward(ctx, branch.steps, parts[i], true)!);
      return stepsBackward(ctx, tape.stem, g.op("Concat", dStarts, { axis: 1 }), ctx.needInputGrad[level]);
    });
  },
});
