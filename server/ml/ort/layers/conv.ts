// Conv2d (plain, depthwise or grouped, dilated or not, + bias, + fused activation) and DepthwiseConv2d.
import { onnxPads, type Padding } from "../../graph/layers/common";
import type { Shape } from "../../graph/registry";
import type { Value } from "../builder";
import { convFilterGrad, convForward, convInputGrad, filterGradForms, forwardForms, inputGradForms, type ConvSpec } from "../conv-grads";
import { registerTrainingEmitter, type BackwardContext, type EmitContext } from "../emitter";
import { activationBackward, activationForward, type ActivationName, type ActivationTape } from "./activation";

/** The parsed data of Conv2d / DepthwiseConv2d nodes (graph/layers/conv.ts). */
interface ConvData {
  filters?: number;
  depth_multiplier?: number;
  kernel_size: [number, number];
  stride: [number, number];
  padding: Padding;
  dilation: [number, number];
  groups?: number;
  bias: boolean;
  activation: ActivationName;
}

interface ConvTape {
  spec: ConvSpec;
  x: string;
  weight: string;
  act: ActivationTape;
}

type Kind = "plain" | "depthwise" | "grouped";

function kindOf(data: ConvData, inChannels: number): Kind {
  if (data.depth_multiplier !== undefined) return "depthwise";
  const groups = data.groups ?? 1;
  if (groups === 1) return "plain";
  if (groups === inChannels && data.filters! % inChannels === 0) return "depthwise";
  return "grouped";
}

function outChannels(data: ConvData, inChannels: number): number {
  return data.depth_multiplier !== undefined ? inChannels * data.depth_multiplier : data.filters!;
}

function unsupported(_data: ConvData, [input]: Shape[]): string | null {
  return input.length === 3 ? null : "needs an image input";
}

function groupsOf(data: ConvData, inChannels: number): number {
  const kind = kindOf(data, inChannels);
  return kind === "plain" ? 1 : kind === "depthwise" ? inChannels : data.groups!;
}

function specOf(ctx: EmitContext<ConvData>): ConvSpec {
  const { data } = ctx;
  const [n, c, h, w] = ctx.inputs[0].shape;
  const [ho, wo] = ctx.outputShape;
  const pads = onnxPads(ctx.inputShapes[0], data.kernel_size, data.stride, data.dilation, data.padding) as ConvSpec["pads"];
  return {
    n,
    c,
    h,
    w,
    co: outChannels(data, c),
    kh: data.kernel_size[0],
    kw: data.kernel_size[1],
    sh: data.stride[0],
    sw: data.stride[1],
    pads,
    group: groupsOf(data, c),
    ho,
    wo,
    ...(data.dilation[0] !== 1 || data.dilation[1] !== 1 ? { dilation: data.dilation } : {}),
  };
}

/** TF.js keeps conv kernels HWIO ([kh, kw, c, co]) and depthwise kernels [kh, kw, c, m]; ONNX wants OIHW. */
function kernelName(data: ConvData, inChannels: number): string {
  return kindOf(data, inChannels) === "depthwise" ? "depthwise_kernel" : "kernel";
}

/** TF.js builds a grouped Conv2d as one conv layer per group, `<node>_g<i>` (graph/layers/conv.ts). */
const groupLayers = (ctx: EmitContext<ConvData>, groups: number) => Array.from({ length: groups }, (_, i) => `${ctx.nodeId}_g${i}`);

function forward(ctx: EmitContext<ConvData>): { output: Value; tape: ConvTape } {
  const { g, data } = ctx;
  const spec = specOf(ctx);
  const x = ctx.inputs[0].name;
  const grouped = kindOf(data, spec.c) === "grouped";
  const layers = grouped ? groupLayers(ctx, spec.group) : [];
  // HWIO → OIHW; a depthwise [kh, kw, c, m] is first read as [kh, kw, 1, c·m] (output channel c·m + j);
  // the groups' HWIO kernels [kh, kw, c/g, co/g] side by side are the grouped conv's [kh, kw, c/g, co].
  let hwio: string;
  if (grouped) hwio = g.op("Concat", layers.map((layer) => ctx.paramOf(layer, "kernel")), { axis: 3 });
  else if (spec.group === 1) hwio = ctx.param(kernelName(data, spec.c));
  else hwio = g.reshape(ctx.param(kernelName(data, spec.c)), [spec.kh, spec.kw, 1, spec.co]);
  const weight = g.transpose(hwio, [3, 2, 0, 1]);
  const bias = !data.bias ? null : grouped ? g.op("Concat", layers.map((layer) => ctx.paramOf(layer, "bias")), { axis: 0 }) : ctx.param("bias");
  const form = ctx.choose("conv-fwd", spec, forwardForms(spec, ctx.nchwcBlock));
  const { z, reluApplied } = convForward(g, spec, form, x, weight, bias, ctx.nchwcBlock, data.activation === "relu");
  // A ReLU fused into the kernel: its output is what the ReLU's backward reads.
  const act = reluApplied ? { activation: data.activation, x: z, y: z } : activationForward(g, data.activation, z);
  return { output: { name: act.y, shape: [spec.n, spec.co, spec.ho, spec.wo] }, tape: { spec, x, weight, act } };
}

function backward(ctx: BackwardContext<ConvData>, tape: ConvTape, dy: string): (string | null)[] {
  const { g, data } = ctx;
  const { spec } = tape;
  const dz = activationBackward(g, tape.act, dy, ctx.reluFoldedIntoConsumer);
  const grouped = kindOf(data, spec.c) === "grouped";
  const layers = grouped ? groupLayers(ctx, spec.group) : [];
  const perGroup = (tensor: string, axis: number) => g.ops("Split", [tensor, g.i64(new Array(spec.group).fill(spec.co / spec.group))], spec.group, { axis });
  if (data.bias) {
    const db = g.reduceSum(dz, [0, 2, 3]);
    if (grouped) perGroup(db, 0).forEach((part, i) => ctx.gradOf(layers[i], "bias", part));
    else ctx.grad("bias", db);
  }
  const dwForm = ctx.choose("conv-dw", spec, filterGradForms(spec));
  const dwOihw = convFilterGrad(g, spec, dwForm, tape.x, dz);
  const dwHwio = g.transpose(dwOihw, [2, 3, 1, 0]);
  if (grouped) perGroup(dwHwio, 3).forEach((part, i) => ctx.gradOf(layers[i], "kernel", part));
  else ctx.grad(kernelName(data, spec.c), spec.group === 1 ? dwHwio : g.reshape(dwHwio, [spec.kh, spec.kw, spec.c, spec.co / spec.c]));
  if (!ctx.needInputGrad[0]) return [null];
  const dxForm = ctx.choose("conv-dx", spec, inputGradForms(spec, ctx.nchwcBlock));
  return [convInputGrad(g, spec, dxForm, dz, tape.weight, ctx.nchwcBlock)];
}

for (const type of ["Conv2d", "DepthwiseConv2d"]) {
  registerTrainingEmitter<ConvData, ConvTape>({
    type,
    unsupported,
    outputActivation: (data) => data.activation,
    forward,
    backward,
  });
}
