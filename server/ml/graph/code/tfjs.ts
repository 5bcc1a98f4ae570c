// The graph as TF.js code with the layers API: the same layers as compileGraph builds (PyTorch
// padding as an explicit pad in front where TF's 'same' differs), so model.countParams() equals
// the graph's parameter count. Channel slices and −∞ padding, which TF.js has no layer for, come
// as two small layer classes at the top of the file when the graph needs them.
import { detectBranchWidths, type DetectHeadData } from "../../detect/head";
import { planGraph, type PlannedNode } from "../index";
import { tfActivation, tfWindowPadding, type FusedActivation, type Padding } from "../layers/common";
import type { ModelGraph } from "../schema";

type D = Record<string, unknown>;
type Pair = [number, number];

const RESERVED = new Set("break case catch class const continue debugger default delete do else export extends finally for function if import in instanceof new return super switch this throw try typeof var void while with yield let static enum await implements package protected interface private public tf buildModel ChannelSlice NegInfPadding2D".split(" "));
const ident = (id: string) => {
  const name = id.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(name) ? `n_${name}` : RESERVED.has(name) ? `${name}_` : name;
};
const js = (v: unknown) => JSON.stringify(v);

const CHANNEL_SLICE = `class ChannelSlice extends tf.layers.Layer {
  static className = "ChannelSlice";
  constructor(config) {
    super(config);
    this.start = config.start;
    this.end = config.end;
  }
  computeOutputShape(shape) {
    return [...shape.slice(0, -1), this.end - this.start];
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.slice(x, [0, 0, 0, this.start], [-1, -1, -1, this.end - this.start]);
  }
  getConfig() {
    return { ...super.getConfig(), start: this.start, end: this.end };
  }
}
tf.serialization.registerClass(ChannelSlice);`;

const NEG_INF_PADDING = `/** Pads H and W with −∞, so a max pool never picks a padded pixel (PyTorch's padding). */
class NegInfPadding2D extends tf.layers.Layer {
  static className = "NegInfPadding2D";
  constructor(config) {
    super(config);
    this.pads = config.pads;
  }
  computeOutputShape([n, h, w, c]) {
    const [[t, b], [l, r]] = this.pads;
    return [n, h + t + b, w + l + r, c];
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.pad(x, [[0, 0], ...this.pads, [0, 0]], -Infinity);
  }
  getConfig() {
    return { ...super.getConfig(), pads: this.pads };
  }
}
tf.serialization.registerClass(NegInfPadding2D);`;

interface Emitter {
  lines: string[];
  helpers: Set<string>;
}

function padded(out: Emitter, name: string, input: string, shape: number[], d: D, dilation: Pair, negInf = false): { x: string; padding: string } {
  const { pads, tfPadding } = tfWindowPadding(shape, d.kernel_size as Pair, d.stride as Pair, dilation, d.padding as Padding);
  if (!pads) return { x: input, padding: tfPadding };
  if (negInf) {
    out.helpers.add(NEG_INF_PADDING);
    out.lines.push(`const ${name}_pad = new NegInfPadding2D({ pads: ${js(pads)}, name: "${name}_pad" }).apply(${input});`);
  } else out.lines.push(`const ${name}_pad = tf.layers.zeroPadding2d({ padding: ${js(pads)}, name: "${name}_pad" }).apply(${input});`);
  return { x: `${name}_pad`, padding: tfPadding };
}

function emit(out: Emitter, layer: PlannedNode, name: string, inputs: string[]): void {
  const d = layer.data as D;
  const [shape] = layer.inputShapes;
  const [x] = inputs;
  const put = (expr: string): void => {
    out.lines.push(`const ${name} = ${expr};`);
  };
  const activation = (a: unknown) => (a && a !== "linear" ? `, activation: "${tfActivation(a as FusedActivation)}"` : "");
  switch (layer.def.type) {
    case "Input":
      return put(`tf.input({ shape: ${js(layer.outputShape)}, name: "${name}" })`);
    case "Conv2d":
    case "DepthwiseConv2d": {
      const { x: source, padding } = padded(out, name, x, shape, d, d.dilation as Pair);
      const depthwise = layer.def.type === "DepthwiseConv2d";
      const filters = depthwise ? shape[2] * (d.depth_multiplier as number) : (d.filters as number);
      const groups = depthwise ? shape[2] : (d.groups as number);
      const conv = (n: number, layerName: string) =>
        `tf.layers.conv2d({ filters: ${n}, kernelSize: ${js(d.kernel_size)}, strides: ${js(d.stride)}, padding: "${padding}", dilationRate: ${js(d.dilation)}, useBias: ${d.bias}${activation(d.activation)}, name: "${layerName}" })`;
      if (groups === 1) return put(`${conv(filters, name)}.apply(${source})`);
      // TF.js's depthwiseConv2d layer ignores dilationRate: a dilated one is written as one conv2d per channel.
      const dilated = (d.dilation as Pair).some((rate) => rate > 1);
      if (groups === shape[2] && filters % shape[2] === 0 && !dilated) {
        return put(`tf.layers.depthwiseConv2d({ kernelSize: ${js(d.kernel_size)}, depthMultiplier: ${filters / shape[2]}, strides: ${js(d.stride)}, padding: "${padding}", useBias: ${d.bias}${activation(d.activation)}, name: "${name}" }).apply(${source})`);
      }
      out.helpers.add(CHANNEL_SLICE);
      const step = shape[2] / groups;
      const parts = Array.from({ length: groups }, (_, g) => `${conv(filters / groups, `${name}_g${g}`)}.apply(new ChannelSlice({ start: ${g * step}, end: ${(g + 1) * step}, name: "${name}_in${g}" }).apply(${source}))`);
      return put(`tf.layers.concatenate({ axis: -1, name: "${name}" }).apply([\n    ${parts.join(",\n    ")},\n  ])`);
    }
    case "BatchNorm":
      return put(`tf.layers.batchNormalization({ axis: -1, epsilon: ${d.eps}, momentum: ${d.momentum}, name: "${name}" }).apply(${x})`);
    case "ReLU":
    case "ReLU6":
    case "SiLU":
    case "Sigmoid":
    case "Tanh":
      return put(`tf.layers.activation({ activation: "${tfActivation(layer.def.type.toLowerCase() as FusedActivation)}", name: "${name}" }).apply(${x})`);
    case "LeakyReLU":
      return put(`tf.layers.leakyReLU({ alpha: ${d.alpha}, name: "${name}" }).apply(${x})`);
    case "Softmax":
      return put(`tf.layers.softmax({ axis: -1, name: "${name}" }).apply(${x})`);
    case "Dropout":
      return put(`tf.layers.dropout({ rate: ${d.rate}, name: "${name}" }).apply(${x})`);
    case "Flatten":
      return put(`tf.layers.flatten({ name: "${name}" }).apply(${x})`);
    case "Dense":
      return put(`tf.layers.dense({ units: ${d.units}, useBias: ${d.bias}${activation(d.activation)}, name: "${name}" }).apply(${x})`);
    case "MaxPool": {
      const { x: source, padding } = padded(out, name, x, shape, d, [1, 1], true);
      return put(`tf.layers.maxPooling2d({ poolSize: ${js(d.kernel_size)}, strides: ${js(d.stride)}, padding: "${padding}", name: "${name}" }).apply(${source})`);
    }
    case "AvgPool": {
      const explicit = (d.padding as Padding).mode === "explicit";
      const source = explicit ? `${name}_pad` : x;
      if (explicit) {
        const [ph, pw] = (d.padding as { pads: Pair }).pads;
        out.lines.push(`const ${name}_pad = tf.layers.zeroPadding2d({ padding: [[${ph}, ${ph}], [${pw}, ${pw}]], name: "${name}_pad" }).apply(${x});`);
      }
      return put(`tf.layers.averagePooling2d({ poolSize: ${js(d.kernel_size)}, strides: ${js(d.stride)}, padding: "${explicit ? "valid" : (d.padding as Padding).mode}", name: "${name}" }).apply(${source})`);
    }
    case "GlobalAvgPool":
      return put(`tf.layers.globalAveragePooling2d({ name: "${name}" }).apply(${x})`);
    case "ZeroPadding": {
      const [t, b, l, r] = d.padding as number[];
      return put(`tf.layers.zeroPadding2d({ padding: [[${t}, ${b}], [${l}, ${r}]], name: "${name}" }).apply(${x})`);
    }
    case "Add":
      return put(`tf.layers.add({ name: "${name}" }).apply([${inputs.join(", ")}])`);
    case "Concat":
      return put(`tf.layers.concatenate({ axis: -1, name: "${name}" }).apply([${inputs.join(", ")}])`);
    case "Upsample":
      return put(`tf.layers.upSampling2d({ size: [${d.scale}, ${d.scale}], interpolation: "nearest", name: "${name}" }).apply(${x})`);
    case "Slice":
      out.helpers.add(CHANNEL_SLICE);
      return put(`new ChannelSlice({ start: ${d.start}, end: ${d.end}, name: "${name}" }).apply(${x})`);
    case "Detect":
      return emitDetect(out, layer, name, inputs);
    default:
      throw new Error(`layer type ${layer.def.type} has no TF.js form in the code view`);
  }
}

/** The Detect head's per-level branches, flattened to [anchors, 4·reg_max + nc] and joined over levels. */
function emitDetect(out: Emitter, layer: PlannedNode, name: string, inputs: string[]): void {
  const data = layer.data as DetectHeadData;
  const { box, cls } = detectBranchWidths(layer.inputShapes[0][2], data);
  const levels = inputs.map((x, level) => {
    const [h, w] = layer.inputShapes[level];
    const branch = (kind: string, hidden: number, outputs: number) => {
      let y = x;
      for (const i of [0, 1]) {
        const id = `${name}_${kind}${level}_${i}`;
        out.lines.push(
          `const ${id} = tf.layers.activation({ activation: "swish", name: "${id}_act" }).apply(tf.layers.batchNormalization({ axis: -1, epsilon: 0.001, momentum: 0.97, name: "${id}_bn" }).apply(tf.layers.conv2d({ filters: ${hidden}, kernelSize: 3, padding: "same", useBias: false, name: "${id}" }).apply(${y})));`,
        );
        y = id;
      }
      const pred = `${name}_${kind}${level}_pred`;
      out.lines.push(`const ${pred} = tf.layers.conv2d({ filters: ${outputs}, kernelSize: 1, name: "${pred}" }).apply(${y});`);
      return pred;
    };
    const parts = [branch("box", box, 4 * data.reg_max), branch("cls", cls, data.nc)];
    const flat = `${name}_flat${level}`;
    out.lines.push(`const ${flat} = tf.layers.reshape({ targetShape: [${h * w}, ${4 * data.reg_max + data.nc}], name: "${flat}" }).apply(tf.layers.concatenate({ axis: -1, name: "${name}_cat${level}" }).apply([${parts.join(", ")}]));`);
    return flat;
  });
  out.lines.push(levels.length === 1 ? `const ${name} = ${levels[0]};` : `const ${name} = tf.layers.concatenate({ axis: 1, name: "${name}" }).apply([${levels.join(", ")}]);`);
}

/** TF.js source for the graph: an ES module exporting buildModel(). */
export function graphToTfjs(graph: ModelGraph, opts: { inputShape: [number, number, number] }): string {
  const plan = planGraph(graph, opts.inputShape);
  const names = new Map(plan.nodes.map((n) => [n.node.id, ident(n.node.id)]));
  const out: Emitter = { lines: [], helpers: new Set() };
  for (const layer of plan.nodes) emit(out, layer, names.get(layer.node.id)!, layer.inputIds.map((id) => names.get(id)!));
  const outputs = plan.outputIds.map((id) => names.get(id)!);
  return [
    `// Generated by the studio from the layer graph: ${plan.summary.totalParams.toLocaleString("en-US")} weights (model.countParams()), input [${opts.inputShape.join(", ")}] (NHWC).`,
    'import * as tf from "@tensorflow/tfjs";',
    "",
    ...[...out.helpers].flatMap((h) => [h, ""]),
    "export function buildModel() {",
    ...out.lines.map((l) => `  ${l}`),
    `  return tf.model({ inputs: ${names.get(plan.inputId)}, outputs: ${outputs.length === 1 ? outputs[0] : `[${outputs.join(", ")}]`}, name: "model" });`,
    "}",
    "",
  ].join("\n");
}
