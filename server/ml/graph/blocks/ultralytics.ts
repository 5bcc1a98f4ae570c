// Ultralytics' building blocks (ultralytics/nn/modules): Conv, Bottleneck, C2f and SPPF. Inner ids
// follow its module names (cv1, m0, …), so layer names map onto checkpoint keys (model.2.m.0.cv1.conv).
import { z } from "zod";
import { booleanish, intPair, numeric, positiveInt, withAliases } from "../layers/common";
import { registerBlockType, type InnerNode } from "./registry";

/** PyTorch BatchNorm2d(eps=1e-3, momentum=0.03) as Ultralytics initialises it, momentum in Keras' sense. */
const ULTRALYTICS_BN = { eps: 1e-3, momentum: 0.97 };

export const BLOCK_ACTIVATIONS = ["silu", "relu", "relu6", "leaky_relu", "sigmoid", "tanh", "none"] as const;
const ACTIVATION_TYPES: Record<(typeof BLOCK_ACTIVATIONS)[number], string | null> = {
  silu: "SiLU",
  relu: "ReLU",
  relu6: "ReLU6",
  leaky_relu: "LeakyReLU",
  sigmoid: "Sigmoid",
  tanh: "Tanh",
  none: null,
};

const activation = z.preprocess(
  (v) => (v === true || v === undefined ? "silu" : v === false ? "none" : typeof v === "string" ? v.toLowerCase() : v),
  z.enum(BLOCK_ACTIVATIONS),
);

const convBlockSchema = withAliases(
  { filters: ["out", "c2", "out_channels"], kernel_size: ["k"], stride: ["s"], padding: ["p"], groups: ["g"], dilation: ["d"], activation: ["act"] },
  z.object({
    filters: positiveInt,
    kernel_size: positiveInt.default(1),
    stride: positiveInt.default(1),
    /** Explicit symmetric padding; absent = Ultralytics' autopad (d·(k−1)+1) // 2. */
    padding: numeric(z.number().int().nonnegative()).optional(),
    groups: positiveInt.default(1),
    dilation: positiveInt.default(1),
    activation,
    eps: numeric(z.number().positive()).default(ULTRALYTICS_BN.eps),
    momentum: numeric(z.number().min(0).max(1)).default(ULTRALYTICS_BN.momentum),
  }),
);
type ConvBlockData = z.output<typeof convBlockSchema>;

/** Inner nodes of a Conv block: conv, bn and the activation (named as the block itself). */
export function convBlockNodes(data: ConvBlockData, input: string): { nodes: InnerNode[]; output: string } {
  const padding = data.padding ?? Math.floor((data.dilation * (data.kernel_size - 1) + 1) / 2);
  const conv = {
    filters: data.filters,
    kernel_size: data.kernel_size,
    stride: data.stride,
    padding,
    groups: data.groups,
    dilation: data.dilation,
    bias: false,
  };
  const nodes: InnerNode[] = [
    { id: "conv", type: "Conv2d", data: conv, inputs: [input] },
    { id: "bn", type: "BatchNorm", data: { eps: data.eps, momentum: data.momentum }, inputs: ["conv"] },
  ];
  const act = ACTIVATION_TYPES[data.activation];
  if (!act) return { nodes, output: "bn" };
  nodes.push({ id: "", type: act, data: act === "LeakyReLU" ? { alpha: 0.1 } : {}, inputs: ["bn"] });
  return { nodes, output: "" };
}

registerBlockType<ConvBlockData>({
  type: "ConvBlock",
  aliases: ["ConvBnAct", "ConvBNSiLU", "CBS"],
  description: "Ultralytics Conv: Conv2d without bias → BatchNorm (eps 1e-3) → SiLU (or another activation)",
  inputs: { min: 1, max: 1 },
  dataSchema: convBlockSchema,
  expand: (_inputs, data) => convBlockNodes(data, "$0"),
});

const bottleneckSchema = withAliases(
  { filters: ["out", "c2"], groups: ["g"], kernel_size: ["k"], expansion: ["e"] },
  z.object({
    filters: positiveInt,
    shortcut: booleanish.default(true),
    groups: positiveInt.default(1),
    kernel_size: intPair.prefault(3),
    expansion: numeric(z.number().positive().max(4)).default(0.5),
  }),
);
type BottleneckData = z.output<typeof bottleneckSchema>;

const conv = (id: string, input: string, filters: number, kernel: number, groups = 1): InnerNode => ({
  id,
  type: "ConvBlock",
  data: { filters, kernel_size: kernel, groups },
  inputs: [input],
});

registerBlockType<BottleneckData>({
  type: "Bottleneck",
  description: "Ultralytics Bottleneck: two Conv blocks, plus the input when shortcut and the widths agree",
  inputs: { min: 1, max: 1 },
  dataSchema: bottleneckSchema,
  expand([input], data) {
    const hidden = Math.floor(data.filters * data.expansion);
    const nodes = [conv("cv1", "$0", hidden, data.kernel_size[0]), conv("cv2", "cv1", data.filters, data.kernel_size[1], data.groups)];
    // Ultralytics adds the shortcut only when input and output widths agree.
    if (!data.shortcut || input[input.length - 1] !== data.filters) return { nodes, output: "cv2" };
    return { nodes: [...nodes, { id: "add", type: "Add", inputs: ["$0", "cv2"] }], output: "add" };
  },
});

const c2fSchema = withAliases(
  { filters: ["out", "c2"], repeats: ["n"], groups: ["g"], expansion: ["e"] },
  z.object({
    filters: positiveInt,
    // Published models use at most 6 (yolov8x: 3 × 1.0, 6 × 1.0); the cap keeps a typo from expanding forever.
    repeats: numeric(z.number().int().positive().max(64)).default(1),
    shortcut: booleanish.default(false),
    groups: positiveInt.default(1),
    expansion: numeric(z.number().positive().max(1)).default(0.5),
  }),
);
type C2fData = z.output<typeof c2fSchema>;

registerBlockType<C2fData>({
  type: "C2f",
  description: "Ultralytics C2f: 1×1 Conv to 2c, split, n Bottlenecks on the second half, concat every stage, 1×1 Conv",
  inputs: { min: 1, max: 1 },
  dataSchema: c2fSchema,
  expand(_inputs, data) {
    const hidden = Math.floor(data.filters * data.expansion);
    const nodes: InnerNode[] = [
      conv("cv1", "$0", 2 * hidden, 1),
      { id: "split0", type: "Slice", data: { start: 0, end: hidden }, inputs: ["cv1"] },
      { id: "split1", type: "Slice", data: { start: hidden, end: 2 * hidden }, inputs: ["cv1"] },
    ];
    const parts = ["split0", "split1"];
    for (let i = 0; i < data.repeats; i++) {
      const bottleneck = `m${i}`;
      nodes.push({
        id: bottleneck,
        type: "Bottleneck",
        data: { filters: hidden, shortcut: data.shortcut, groups: data.groups, kernel_size: 3, expansion: 1 },
        inputs: [parts[parts.length - 1]],
      });
      parts.push(bottleneck);
    }
    nodes.push({ id: "cat", type: "Concat", inputs: parts }, conv("cv2", "cat", data.filters, 1));
    return { nodes, output: "cv2" };
  },
});

const sppfSchema = withAliases(
  { filters: ["out", "c2"], kernel_size: ["k"] },
  z.object({ filters: positiveInt, kernel_size: positiveInt.default(5) }),
);
type SppfData = z.output<typeof sppfSchema>;

registerBlockType<SppfData>({
  type: "SPPF",
  description: "Ultralytics SPPF: 1×1 Conv to c/2, three chained k×k max pools, concat the four, 1×1 Conv",
  inputs: { min: 1, max: 1 },
  dataSchema: sppfSchema,
  expand([input], data) {
    const k = data.kernel_size;
    const nodes: InnerNode[] = [conv("cv1", "$0", Math.floor(input[input.length - 1] / 2), 1)];
    const parts = ["cv1"];
    for (let i = 0; i < 3; i++) {
      nodes.push({ id: `pool${i}`, type: "MaxPool", data: { kernel_size: k, stride: 1, padding: Math.floor(k / 2) }, inputs: [parts[i]] });
      parts.push(`pool${i}`);
    }
    nodes.push({ id: "cat", type: "Concat", inputs: parts }, conv("cv2", "cat", data.filters, 1));
    return { nodes, output: "cv2" };
  },
});
