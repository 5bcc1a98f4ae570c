import type { ModelGraph } from "../graph/schema";
import { GraphBuilder } from "./builder";

/** The benchmark network: conv3×3·16 → maxpool2 → conv3×3·32 → maxpool2 → conv3×3·64 → GAP → dense(nc). */
export function referenceCnn(numClasses: number): ModelGraph {
  const g = new GraphBuilder();
  let x = g.add("input", "Input", []);
  x = g.add("conv1", "Conv2d", [x], { filters: 16, kernel_size: 3, padding: 1, activation: "relu" });
  x = g.add("pool1", "MaxPool", [x], { kernel_size: 2 });
  x = g.add("conv2", "Conv2d", [x], { filters: 32, kernel_size: 3, padding: 1, activation: "relu" });
  x = g.add("pool2", "MaxPool", [x], { kernel_size: 2 });
  x = g.add("conv3", "Conv2d", [x], { filters: 64, kernel_size: 3, padding: 1, activation: "relu" });
  x = g.add("gap", "GlobalAvgPool", [x]);
  g.add("fc", "Dense", [x], { units: numClasses });
  return g.graph();
}
