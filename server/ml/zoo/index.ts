import type { ModelGraph } from "../graph/schema";
import { mobilenetV2 } from "./mobilenet-v2";
import { referenceCnn } from "./reference-cnn";
import { resnet } from "./resnet";
import { yolov8Models } from "./yolov8";

export interface ZooGraphOptions {
  imgsz: number;
  numClasses: number;
  /** Channel width multiplier (mobilenet_v2, resnet*); 1 = the published network. */
  width?: number;
}

export interface ZooModel {
  name: string;
  task: "classify" | "detect";
  description: string;
  /** The smallest imgsz the network accepts (its total stride). */
  minImgsz?: number;
  graph(opts: ZooGraphOptions): ModelGraph;
}

export const zooModels: ZooModel[] = [
  {
    name: "reference-cnn",
    task: "classify",
    description: "3 conv (16/32/64, ReLU) with max pooling, global average pool, dense — the benchmark network",
    graph: ({ numClasses }) => referenceCnn(numClasses),
  },
  {
    name: "mobilenet_v2",
    task: "classify",
    description: "MobileNetV2 (inverted residuals, ReLU6); width multiplier `width`; 3.5M params at width 1",
    graph: ({ numClasses, width }) => mobilenetV2(numClasses, width),
  },
  {
    name: "resnet18",
    task: "classify",
    description: "ResNet-18 (BasicBlock, BatchNorm, projection shortcuts); 11.7M params",
    graph: ({ numClasses, width }) => resnet([2, 2, 2, 2], numClasses, width),
  },
  {
    name: "resnet34",
    task: "classify",
    description: "ResNet-34 (BasicBlock, BatchNorm, projection shortcuts); 21.8M params",
    graph: ({ numClasses, width }) => resnet([3, 4, 6, 3], numClasses, width),
  },
  ...yolov8Models,
];

export function findZooModel(name: string): ZooModel {
  const model = zooModels.find((m) => m.name === name);
  if (!model) throw new Error(`unknown zoo model "${name}"; available: ${zooModels.map((m) => m.name).join(", ")}`);
  return model;
}

export function zooGraph(name: string, opts: ZooGraphOptions): ModelGraph {
  const model = findZooModel(name);
  const minImgsz = model.minImgsz ?? 32;
  if (!Number.isInteger(opts.imgsz) || opts.imgsz < minImgsz) {
    throw new Error(`zoo model "${name}": imgsz must be an integer ≥ ${minImgsz}, got ${opts.imgsz}`);
  }
  if (!Number.isInteger(opts.numClasses) || opts.numClasses < 1) {
    throw new Error(`zoo model "${name}": numClasses must be a positive integer, got ${opts.numClasses}`);
  }
  if (opts.width !== undefined && !(opts.width > 0)) {
    throw new Error(`zoo model "${name}": width must be positive, got ${opts.width}`);
  }
  return model.graph(opts);
}
