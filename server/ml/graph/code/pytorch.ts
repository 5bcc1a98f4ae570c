// The graph as a PyTorch nn.Module: one attribute per layer (blocks as their layers, under a
// comment naming the block), forward in the engine's order. Same weights as ours: parameters()
// counts exactly the graph's trainable parameters; the Detect head is written as its convolutions.
import type { DetectHeadData } from "../../detect/head";
import { planGraph, type PlannedNode } from "../index";
import { onnxPads, type FusedActivation, type Padding } from "../layers/common";
import type { ModelGraph } from "../schema";

type D = Record<string, unknown>;
type Pair = [number, number];

const RESERVED = new Set("and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield None True False x self torch nn F sum".split(" "));
const ident = (id: string) => {
  const name = id.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(name) ? `n_${name}` : RESERVED.has(name) ? `${name}_` : name;
};
const py = (v: unknown): string => (typeof v === "boolean" ? (v ? "True" : "False") : Array.isArray(v) ? `(${v.map(py).join(", ")})` : String(v));
const pair = (p: Pair) => (p[0] === p[1] ? String(p[0]) : py(p));

const ACTIVATIONS: Record<Exclude<FusedActivation, "linear">, string> = { relu: "nn.ReLU()", relu6: "nn.ReLU6()", silu: "nn.SiLU()", sigmoid: "nn.Sigmoid()", tanh: "nn.Tanh()" };

interface Emitted {
  /** `self.<name> = …` lines. */
  modules: string[];
  /** forward lines; `$in` is the first input, `$inputs` the list, the result goes to the node's variable. */
  forward: string[];
}

/** PyTorch's symmetric padding, or an explicit F.pad in front where TF's 'same' is asymmetric. */
function windowPadding(shape: number[], kernel: Pair, stride: Pair, dilation: Pair, padding: Padding): { pad: string | null; padding: Pair } {
  const [top, left, bottom, right] = onnxPads(shape, kernel, stride, dilation, padding);
  if (top === bottom && left === right) return { pad: null, padding: [top, left] };
  return { pad: `(${left}, ${right}, ${top}, ${bottom})`, padding: [0, 0] };
}

function emit(layer: PlannedNode, name: string): Emitted {
  const d = layer.data as D;
  const [input] = layer.inputShapes;
  const self = `self.${name}`;
  const act = (a: unknown) => (a && a !== "linear" ? [`${self}_act = ${ACTIVATIONS[a as Exclude<FusedActivation, "linear">]}`] : []);
  const actCall = (a: unknown, expr: string) => (a && a !== "linear" ? `${self}_act(${expr})` : expr);
  switch (layer.def.type) {
    case "Conv2d":
    case "DepthwiseConv2d": {
      const depthwise = layer.def.type === "DepthwiseConv2d";
      const cin = input[2];
      const filters = depthwise ? cin * (d.depth_multiplier as number) : (d.filters as number);
      const groups = depthwise ? cin : (d.groups as number);
      const { pad, padding } = windowPadding(input, d.kernel_size as Pair, d.stride as Pair, d.dilation as Pair, d.padding as Padding);
      const args = [cin, filters, `kernel_size=${pair(d.kernel_size as Pair)}`, `stride=${pair(d.stride as Pair)}`, `padding=${pair(padding)}`];
      if ((d.dilation as Pair).some((v) => v !== 1)) args.push(`dilation=${pair(d.dilation as Pair)}`);
      if (groups !== 1) args.push(`groups=${groups}`);
      if (!d.bias) args.push("bias=False");
      const x = pad ? `F.pad($in, ${pad})` : "$in";
      return { modules: [`${self} = nn.Conv2d(${args.join(", ")})`, ...act(d.activation)], forward: [actCall(d.activation, `${self}(${x})`)] };
    }
    case "BatchNorm": {
      const kind = input.length === 3 ? "BatchNorm2d" : "BatchNorm1d";
      const momentum = Number((1 - (d.momentum as number)).toFixed(6));
      return { modules: [`${self} = nn.${kind}(${input[input.length - 1]}, eps=${d.eps}, momentum=${momentum})`], forward: [`${self}($in)`] };
    }
    case "ReLU":
    case "ReLU6":
    case "SiLU":
    case "Sigmoid":
    case "Tanh":
      return { modules: [`${self} = nn.${layer.def.type}()`], forward: [`${self}($in)`] };
    case "LeakyReLU":
      return { modules: [`${self} = nn.LeakyReLU(${d.alpha})`], forward: [`${self}($in)`] };
    case "Softmax":
      return { modules: [], forward: ["torch.softmax($in, dim=1)"] };
    case "Dropout":
      return { modules: [`${self} = nn.Dropout(${d.rate})`], forward: [`${self}($in)`] };
    case "Flatten":
      // Our vectors are in NHWC order; permute so Dense weights line up with the graph's.
      return { modules: [], forward: [input.length === 3 ? "torch.flatten($in.permute(0, 2, 3, 1), 1)" : "torch.flatten($in, 1)"] };
    case "Dense":
      return {
        modules: [`${self} = nn.Linear(${input[0]}, ${d.units}${d.bias ? "" : ", bias=False"})`, ...act(d.activation)],
        forward: [actCall(d.activation, `${self}($in)`)],
      };
    case "MaxPool":
    case "AvgPool": {
      const max = layer.def.type === "MaxPool";
      const { pad, padding } = windowPadding(input, d.kernel_size as Pair, d.stride as Pair, [1, 1], d.padding as Padding);
      const same = (d.padding as Padding).mode === "same";
      const args = [`kernel_size=${pair(d.kernel_size as Pair)}`, `stride=${pair(d.stride as Pair)}`, `padding=${pair(padding)}`];
      if (!max && same) args.push("count_include_pad=False");
      const x = pad ? `F.pad($in, ${pad}${max ? ', value=float("-inf")' : ""})` : "$in";
      return { modules: [`${self} = nn.${max ? "MaxPool2d" : "AvgPool2d"}(${args.join(", ")})`], forward: [`${self}(${x})`] };
    }
    case "GlobalAvgPool":
      return { modules: [`${self} = nn.AdaptiveAvgPool2d(1)`], forward: [`torch.flatten(${self}($in), 1)`] };
    case "ZeroPadding": {
      const [t, b, l, r] = d.padding as number[];
      return { modules: [`${self} = nn.ZeroPad2d((${l}, ${r}, ${t}, ${b}))`], forward: [`${self}($in)`] };
    }
    case "Add":
      return { modules: [], forward: ["sum($inputs)"] };
    case "Concat":
      return { modules: [], forward: ["torch.cat($inputs, 1)"] };
    case "Upsample":
      return { modules: [`${self} = nn.Upsample(scale_factor=${d.scale}, mode="nearest")`], forward: [`${self}($in)`] };
    case "Slice":
      return { modules: [], forward: [`$in[:, ${d.start}:${d.end}]`] };
    case "Detect": {
      const data = layer.data as DetectHeadData;
      const levels = layer.inputShapes.map((s) => s[2]);
      return { modules: [`${self} = DetectHead(${data.nc}, ${py(levels)}, reg_max=${data.reg_max})`], forward: [`${self}($inputs)`] };
    }
    case "Input":
      return { modules: [], forward: [] };
    default:
      throw new Error(`layer type ${layer.def.type} has no PyTorch form in the code view`);
  }
}

const DETECT_HEAD = `
class ConvBnSiLU(nn.Sequential):
    def __init__(self, c1, c2, k):
        super().__init__(nn.Conv2d(c1, c2, k, padding=k // 2, bias=False), nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03), nn.SiLU())


class DetectHead(nn.Module):
    """YOLOv8 Detect: a box branch and a class branch per level; raw output [B, 4*reg_max + nc, anchors] (DFL decoding not included)."""

    def __init__(self, nc, channels, reg_max=16):
        super().__init__()
        box, cls = max(16, channels[0] // 4, reg_max * 4), max(channels[0], min(nc, 100))
        self.box = nn.ModuleList(nn.Sequential(ConvBnSiLU(c, box, 3), ConvBnSiLU(box, box, 3), nn.Conv2d(box, 4 * reg_max, 1)) for c in channels)
        self.cls = nn.ModuleList(nn.Sequential(ConvBnSiLU(c, cls, 3), ConvBnSiLU(cls, cls, 3), nn.Conv2d(cls, nc, 1)) for c in channels)

    def forward(self, xs):
        return torch.cat([torch.cat((b(x), c(x)), 1).flatten(2) for x, b, c in zip(xs, self.box, self.cls)], 2)
`;

/** PyTorch source for the graph; `className` names the module. */
export function graphToPytorch(graph: ModelGraph, opts: { inputShape: [number, number, number]; className?: string }): string {
  const plan = planGraph(graph, opts.inputShape);
  const className = opts.className ?? "Model";
  const names = new Map(plan.nodes.map((n) => [n.node.id, ident(n.node.id)]));
  const topOf = new Map<string, string>();
  for (const summary of plan.summary.nodes) for (const inner of summary.inner ?? []) topOf.set(inner.id, `${summary.id} (${summary.type})`);
  const init: string[] = [];
  const forward: string[] = [];
  let lastBlock: string | undefined;
  for (const layer of plan.nodes) {
    const name = names.get(layer.node.id)!;
    if (layer.def.type === "Input") {
      forward.push(`${name} = x`);
      continue;
    }
    const block = topOf.get(layer.node.id);
    if (block && block !== lastBlock) init.push(`# ${block}`);
    lastBlock = block;
    const inputs = layer.inputIds.map((id) => names.get(id)!);
    const { modules, forward: lines } = emit(layer, name);
    init.push(...modules);
    for (const line of lines) forward.push(`${name} = ${line.replaceAll("$inputs", `[${inputs.join(", ")}]`).replaceAll("$in", inputs[0])}`);
  }
  const outputs = plan.outputIds.map((id) => names.get(id)!);
  const [h, w, c] = opts.inputShape;
  return [
    `# Generated by the studio from the layer graph: ${plan.summary.totalTrainableParams.toLocaleString("en-US")} parameters, input [N, ${c}, ${h}, ${w}].`,
    "import torch",
    "import torch.nn as nn",
    "import torch.nn.functional as F",
    ...(plan.nodes.some((n) => n.def.type === "Detect") ? [DETECT_HEAD.trimEnd()] : []),
    "",
    "",
    `class ${className}(nn.Module):`,
    "    def __init__(self):",
    "        super().__init__()",
    ...(init.length ? init : ["pass"]).map((l) => `        ${l}`),
    "",
    "    def forward(self, x):",
    ...forward.map((l) => `        ${l}`),
    `        return ${outputs.length === 1 ? outputs[0] : `(${outputs.join(", ")})`}`,
    "",
  ].join("\n");
}
