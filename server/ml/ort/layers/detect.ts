// The YOLOv8 Detect head (detect/head.ts): per level a box and a class branch of Conv-BN-SiLU,
// Conv-BN-SiLU, Conv(1×1, bias), joined along channels, the levels flattened and concatenated into
// the raw [anchors, 4·reg_max + nc] output. Written with the Conv2d and BatchNorm emitters on the
// TF.js layers the head builds (their weights keep their names).
import type { Shape } from "../../graph/registry";
import { BN_EPS, BN_MOMENTUM, levelConvs, type DetectHeadData, type HeadConv } from "../../detect/head";
import type { Value } from "../builder";
import { findTrainingEmitter, registerTrainingEmitter, type BackwardContext, type EmitContext, type TrainingEmitter } from "../emitter";
import { activationBackward, activationForward, type ActivationTape } from "./activation";

type Step = { kind: "conv" | "bn"; ctx: EmitContext<unknown>; tape: unknown } | { kind: "silu"; tape: ActivationTape };

interface LevelTape {
  branches: { steps: Step[]; channels: number }[];
  shape: number[];
}

const emitter = (type: string) => findTrainingEmitter(type) as TrainingEmitter;

/** A context for one TF.js layer of the head: its own name, data, input and output shapes. */
function layerContext<D>(ctx: EmitContext<DetectHeadData>, layer: string, data: D, input: Value, inputShape: Shape, outputShape: Shape): EmitContext<unknown> {
  return {
    ...ctx,
    nodeId: layer,
    data,
    inputs: [input],
    inputShapes: [inputShape],
    outputShape,
    param: (name) => ctx.paramOf(layer, name),
    movingAverage: (name, tensor, dims, momentum) => ctx.movingAverageOf(layer, name, tensor, dims, momentum),
    reluFoldedIntoConsumer: false,
    reluFoldedFromInput: false,
  };
}

function convData(conv: HeadConv) {
  return { filters: conv.filters, kernel_size: [conv.kernel, conv.kernel], stride: [1, 1], padding: { mode: "same" }, dilation: [1, 1], groups: 1, bias: !conv.normalized, activation: "linear" };
}

function branchForward(ctx: EmitContext<DetectHeadData>, x: Value, convs: HeadConv[]): { y: Value; steps: Step[] } {
  const [n, , h, w] = x.shape;
  const steps: Step[] = [];
  let y = x;
  for (const conv of convs) {
    const convCtx = layerContext(ctx, conv.name, convData(conv), y, [h, w, conv.inChannels], [h, w, conv.filters]);
    const out = emitter("Conv2d").forward(convCtx);
    steps.push({ kind: "conv", ctx: convCtx, tape: out.tape });
    y = out.output;
    if (!conv.normalized) continue;
    const bnCtx = layerContext(ctx, `${conv.name}_bn`, { eps: BN_EPS, momentum: BN_MOMENTUM }, y, [h, w, conv.filters], [h, w, conv.filters]);
    const bn = emitter("BatchNorm").forward(bnCtx);
    steps.push({ kind: "bn", ctx: bnCtx, tape: bn.tape });
    const silu = activationForward(ctx.g, "silu", bn.output.name);
    steps.push({ kind: "silu", tape: silu });
    y = { name: silu.y, shape: [n, conv.filters, h, w] };
  }
  return { y, steps };
}

function branchBackward(ctx: BackwardContext<DetectHeadData>, steps: Step[], dy: string, needInput: boolean): string | null {
  let d: string | null = dy;
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    if (step.kind === "silu") {
      d = activationBackward(ctx.g, step.tape, d!);
      continue;
    }
    const type = step.kind === "conv" ? "Conv2d" : "BatchNorm";
    const layer = step.ctx.nodeId;
    const backCtx: BackwardContext<unknown> = { ...step.ctx, needInputGrad: [i > 0 || needInput], grad: (name, tensor) => ctx.gradOf(layer, name, tensor), gradOf: ctx.gradOf };
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
      const branches = levelConvs(ctx.nodeId, level, c, first, data).map((convs) => branchForward(ctx, x, convs));
      tapes.push({ branches: branches.map((b) => ({ steps: b.steps, channels: b.y.shape[1] })), shape: [n, c, h, w] });
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
      const need = ctx.needInputGrad[level];
      const dxs = tape.branches.map((branch, i) => branchBackward(ctx, branch.steps, parts[i], need));
      return need ? g.sum(dxs as string[]) : null;
    });
  },
});
