import type { ModelGraph } from "../graph/schema";
import { GraphBuilder } from "./builder";

/** Channel count scaled by the width multiplier, kept a multiple of 8. */
export function scaledChannels(channels: number, width: number): number {
  return Math.max(8, Math.round((channels * width) / 8) * 8);
}

function convBn(g: GraphBuilder, id: string, input: string, filters: number, kernel: number, stride: number, relu: boolean): string {
  let x = g.add(`${id}_conv`, "Conv2d", [input], { filters, kernel_size: kernel, stride, padding: Math.floor(kernel / 2), bias: false });
  x = g.add(`${id}_bn`, "BatchNorm", [x]);
  return relu ? g.add(`${id}_relu`, "ReLU", [x]) : x;
}

/** torchvision's BasicBlock: two 3×3 conv-BN, identity or 1×1 conv-BN projection shortcut, ReLU after the sum. */
function basicBlock(g: GraphBuilder, id: string, input: string, inChannels: number, filters: number, stride: number): string {
  const a = convBn(g, `${id}_1`, input, filters, 3, stride, true);
  const b = convBn(g, `${id}_2`, a, filters, 3, 1, false);
  const shortcut = stride !== 1 || inChannels !== filters ? convBn(g, `${id}_down`, input, filters, 1, stride, false) : input;
  const sum = g.add(`${id}_add`, "Add", [b, shortcut]);
  return g.add(`${id}_out`, "ReLU", [sum]);
}

/** ResNet-18/34 (He et al. 2015), torchvision's layout and padding: torchvision weights give its outputs. */
export function resnet(blocks: [number, number, number, number], numClasses: number, width = 1): ModelGraph {
  const g = new GraphBuilder();
  const stemChannels = scaledChannels(64, width);
  let x = g.add("input", "Input", []);
  x = convBn(g, "stem", x, stemChannels, 7, 2, true);
  x = g.add("stem_pool", "MaxPool", [x], { kernel_size: 3, stride: 2, padding: 1 });
  let channels = stemChannels;
  blocks.forEach((count, stage) => {
    const filters = scaledChannels(64 * 2 ** stage, width);
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && stage > 0 ? 2 : 1;
      x = basicBlock(g, `layer${stage + 1}_${i}`, x, channels, filters, stride);
      channels = filters;
    }
  });
  x = g.add("gap", "GlobalAvgPool", [x]);
  g.add("fc", "Dense", [x], { units: numClasses });
  return g.graph();
}
