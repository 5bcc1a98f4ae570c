// torchvision's ResNet BasicBlock and MobileNetV2 InvertedResidual. Inner ids are the zoo's
// (layer1_0_1_conv, block3_dw_bn), so the zoo's PyTorch namers apply to graphs made of blocks.
import { z } from "zod";
import { numeric, positiveInt, withAliases } from "../layers/common";
import { registerBlockType, type InnerNode } from "./registry";

function convBn(id: string, input: string, type: "Conv2d" | "DepthwiseConv2d", data: Record<string, unknown>, act: "ReLU" | "ReLU6" | null, actId = "relu"): InnerNode[] {
  const nodes: InnerNode[] = [
    { id: `${id}_conv`, type, data: { ...data, bias: false }, inputs: [input] },
    { id: `${id}_bn`, type: "BatchNorm", inputs: [`${id}_conv`] },
  ];
  if (act) nodes.push({ id: `${id}_${actId}`, type: act, inputs: [`${id}_bn`] });
  return nodes;
}

const last = (nodes: InnerNode[]) => nodes[nodes.length - 1].id;

const basicBlockSchema = withAliases(
  { filters: ["out", "planes", "c2"], stride: ["s"] },
  z.object({ filters: positiveInt, stride: positiveInt.default(1) }),
);
type BasicBlockData = z.output<typeof basicBlockSchema>;

registerBlockType<BasicBlockData>({
  type: "BasicBlock",
  aliases: ["ResNetBasicBlock", "ResidualBlock"],
  description: "ResNet basic block: two 3×3 conv-BN, identity or 1×1 conv-BN projection shortcut, ReLU after the sum",
  inputs: { min: 1, max: 1 },
  dataSchema: basicBlockSchema,
  expand([input], { filters, stride }) {
    const first = convBn("1", "$0", "Conv2d", { filters, kernel_size: 3, stride, padding: 1 }, "ReLU");
    const second = convBn("2", last(first), "Conv2d", { filters, kernel_size: 3, stride: 1, padding: 1 }, null);
    const projects = stride !== 1 || input[input.length - 1] !== filters;
    const down = projects ? convBn("down", "$0", "Conv2d", { filters, kernel_size: 1, stride, padding: 0 }, null) : [];
    const nodes = [
      ...first,
      ...second,
      ...down,
      { id: "add", type: "Add", inputs: [last(second), projects ? last(down) : "$0"] },
      { id: "out", type: "ReLU", inputs: ["add"] },
    ];
    return { nodes, output: "out" };
  },
});

const invertedResidualSchema = withAliases(
  { filters: ["out", "c2"], stride: ["s"], expansion: ["t", "expand_ratio"] },
  z.object({ filters: positiveInt, stride: positiveInt.default(1), expansion: numeric(z.number().positive().max(16)).default(6) }),
);
type InvertedResidualData = z.output<typeof invertedResidualSchema>;

registerBlockType<InvertedResidualData>({
  type: "InvertedResidual",
  aliases: ["MBConv", "MobileNetBlock"],
  description: "MobileNetV2 inverted residual: 1×1 expand (ReLU6), 3×3 depthwise (ReLU6), linear 1×1 project, residual when shapes agree",
  inputs: { min: 1, max: 1 },
  dataSchema: invertedResidualSchema,
  expand([input], { filters, stride, expansion }) {
    const channels = input[input.length - 1];
    const expand = expansion === 1 ? [] : convBn("expand", "$0", "Conv2d", { filters: Math.round(channels * expansion), kernel_size: 1, padding: 0 }, "ReLU6", "relu6");
    const dw = convBn("dw", expand.length ? last(expand) : "$0", "DepthwiseConv2d", { kernel_size: 3, stride, padding: 1 }, "ReLU6", "relu6");
    const project = convBn("project", last(dw), "Conv2d", { filters, kernel_size: 1, padding: 0 }, null);
    const nodes = [...expand, ...dw, ...project];
    if (stride !== 1 || channels !== filters) return { nodes, output: last(project) };
    return { nodes: [...nodes, { id: "add", type: "Add", inputs: ["$0", last(project)] }], output: "add" };
  },
});
