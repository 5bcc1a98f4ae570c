// Conv2d (plain and depthwise, + bias, + fused activation) and DepthwiseConv2d.
import { onnxPads, type Padding } from "../../graph/layers/common";
import type { Shape } from "../../graph/registry";
import type { Value } from "../builder";
import { convFilterGrad, convInputGrad, filterGradForms, inputGradForms, type ConvSpec } from "../conv-grads";
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

function unsupported(data: ConvData, [input]: Shape[]): string | null {
  if (input.length !== 3) return "needs an image input";
  if (data.dilation[0] !== 1 || data.dilation[1] !== 1) return "dilated convolutions have no training graph yet";
  if (kindOf(data, input[2]) === "grouped") return "grouped convolutions (groups other than 1 or the input channels) have no training graph yet";
  return null;
}

function specOf(ctx: EmitContext<ConvData>): ConvSpec {
  const { data } = ctx;
  const [n, c, h, w] = ctx.inputs[0].shape;
  const [ho, wo] = ctx.outputShape;
  const pads = onnxPads(ctx.inputShapes[0], data.kernel_size, data.stride, data.dilation, data.padding) as ConvSpec["pads"];
  const depthwise = kindOf(data, c) === "depthwise";
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
    group: depthwise ? c : 1,
    ho,
    wo,
  };
}

/** TF.js keeps conv kernels HWIO ([kh, kw, c, co]) and depthwise kernels [kh, kw, c, m]; ONNX wants OIHW. */
function kernelName(data: ConvData, inChannels: number): string {
  return kindOf(data, inChannels) === "depthwise" ? "depthwise_kernel" : "kernel";
}

function forward(ctx: EmitContext<ConvData>): { output: Value; tape: ConvTape } {
  const { g, data } = ctx;
  const spec = specOf(ctx);
  const x = ctx.inputs[0].name;
  const kernel = ctx.param(kernelName(data, spec.c));
  // HWIO → OIHW; a depthwise [kh, kw, c, m] is first read as [kh, kw, 1, c·m] (output channel c·m + j).
  const hwio = spec.group === 1 ? kernel : g.reshape(kernel, [spec.kh, spec.kw, 1, spec.co]);
  const weight = g.transpose(hwio, [3, 2, 0, 1]);
  const inputs = [x, weight];
  if (data.bias) inputs.push(ctx.param("bias"));
  const z = g.op("Conv", inputs, { kernel_shape: [spec.kh, spec.kw], strides: [spec.sh, spec.sw], pads: spec.pads, group: spec.group });
  const act = activationForward(g, data.activation, z);
  return { output: { name: act.y, shape: [spec.n, spec.co, spec.ho, spec.wo] }, tape: { spec, x, weight, act } };
}

function backward(ctx: BackwardContext<ConvData>, tape: ConvTape, dy: string): (string | null)[] {
  const { g, data } = ctx;
  const { spec } = tape;
  const dz = activationBackward(g, tape.act, dy, ctx.reluFoldedIntoConsumer);
  if (data.bias) ctx.grad("bias", g.reduceSum(dz, [0, 2, 3]));
  const dwForm = ctx.choose("conv-dw", spec, filterGradForms(spec));
  const dwOihw = convFilterGrad(g, spec, dwForm, tape.x, dz);
  const dwHwio = g.transpose(dwOihw, [2, 3, 1, 0]);
  const kernel = kernelName(data, spec.c);
  ctx.grad(kernel, spec.group === 1 ? dwHwio : g.reshape(dwHwio, [spec.kh, spec.kw, spec.c, spec.co / spec.c]));
  if (!ctx.needInputGrad[0]) return [null];
  const dxForm = ctx.choose("conv-dx", spec, inputGradForms(spec));
  return [convInputGrad(g, spec, dxForm, dz, tape.weight)];
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
