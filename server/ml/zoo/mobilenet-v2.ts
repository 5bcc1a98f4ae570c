import type { ModelGraph } from "../graph/schema";
import { GraphBuilder } from "./builder";

/** torchvision's _make_divisible: round to a multiple of 8 without losing more than 10%. */
function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

// expansion t, output channels c, repeats n, first stride s (Sandler et al. 2018, table 2)
const SETTINGS: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

function convBn(g: GraphBuilder, id: string, input: string, filters: number, kernel: number, stride: number, relu6: boolean): string {
  let x = g.add(`${id}_conv`, "Conv2d", [input], { filters, kernel_size: kernel, stride, padding: Math.floor(kernel / 2), bias: false });
  x = g.add(`${id}_bn`, "BatchNorm", [x]);
  return relu6 ? g.add(`${id}_relu6`, "ReLU6", [x]) : x;
}

/** MobileNetV2 with width multiplier `width` (torchvision layout: ReLU6, linear bottlenecks, dropout 0.2). */
export function mobilenetV2(numClasses: number, width = 1): ModelGraph {
  const g = new GraphBuilder();
  let channels = makeDivisible(32 * width);
  let x = g.add("input", "Input", []);
  x = convBn(g, "stem", x, channels, 3, 2, true);
  let index = 0;
  for (const [expansion, c, repeats, firstStride] of SETTINGS) {
    const outChannels = makeDivisible(c * width);
    for (let i = 0; i < repeats; i++) {
      const id = `block${index++}`;
      const stride = i === 0 ? firstStride : 1;
      const hidden = Math.round(channels * expansion);
      let y = expansion === 1 ? x : convBn(g, `${id}_expand`, x, hidden, 1, 1, true);
      y = g.add(`${id}_dw_conv`, "DepthwiseConv2d", [y], { kernel_size: 3, stride, padding: 1, bias: false });
      y = g.add(`${id}_dw_bn`, "BatchNorm", [y]);
      y = g.add(`${id}_dw_relu6`, "ReLU6", [y]);
      y = convBn(g, `${id}_project`, y, outChannels, 1, 1, false);
      x = stride === 1 && channels === outChannels ? g.add(`${id}_add`, "Add", [x, y]) : y;
      channels = outChannels;
    }
  }
  x = convBn(g, "head", x, makeDivisible(1280 * Math.max(1, width)), 1, 1, true);
  x = g.add("gap", "GlobalAvgPool", [x]);
  x = g.add("dropout", "Dropout", [x], { rate: 0.2 });
  g.add("fc", "Dense", [x], { units: numClasses });
  return g.graph();
}
