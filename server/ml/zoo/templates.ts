// Every zoo model as the builder opens it: the same network as zooGraph(), drawn with blocks
// (BasicBlock, InvertedResidual, and the YOLOv8 rows of yolov8.yaml) so it reads like its paper.
import type { ModelGraph } from "../graph/schema";
import { parseUltralyticsYaml } from "../graph/ultralytics-yaml";
import { GraphBuilder } from "./builder";
import { referenceCnn } from "./reference-cnn";
import { scaledChannels } from "./resnet";
import { YOLOV8_SCALES } from "./yolov8";
import { YOLOV8_YAML } from "./yolov8-yaml";
import { zooModels } from "./index";

export interface ZooTemplate {
  name: string;
  task: "classify" | "detect";
  description: string;
  /** yolov8: the scales one template switches between. */
  scales?: string[];
}

function convBn(g: GraphBuilder, id: string, input: string, filters: number, kernel: number, stride: number, act: "ReLU" | "ReLU6"): string {
  let x = g.add(`${id}_conv`, "Conv2d", [input], { filters, kernel_size: kernel, stride, padding: Math.floor(kernel / 2), bias: false });
  x = g.add(`${id}_bn`, "BatchNorm", [x]);
  return g.add(`${id}_${act.toLowerCase()}`, act, [x]);
}

function resnetTemplate(blocks: number[], numClasses: number): ModelGraph {
  const g = new GraphBuilder();
  let x = convBn(g, "stem", g.add("input", "Input", []), 64, 7, 2, "ReLU");
  x = g.add("stem_pool", "MaxPool", [x], { kernel_size: 3, stride: 2, padding: 1 });
  blocks.forEach((count, stage) => {
    for (let i = 0; i < count; i++) {
      x = g.add(`layer${stage + 1}_${i}`, "BasicBlock", [x], { filters: scaledChannels(64 * 2 ** stage, 1), stride: i === 0 && stage > 0 ? 2 : 1 });
    }
  });
  g.add("fc", "Dense", [g.add("gap", "GlobalAvgPool", [x])], { units: numClasses });
  return g.graph();
}

const MOBILENET_V2: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

function mobilenetTemplate(numClasses: number): ModelGraph {
  const g = new GraphBuilder();
  let x = convBn(g, "stem", g.add("input", "Input", []), 32, 3, 2, "ReLU6");
  let index = 0;
  for (const [expansion, filters, repeats, stride] of MOBILENET_V2) {
    for (let i = 0; i < repeats; i++) x = g.add(`block${index++}`, "InvertedResidual", [x], { filters, stride: i === 0 ? stride : 1, expansion });
  }
  x = convBn(g, "head", x, 1280, 1, 1, "ReLU6");
  x = g.add("dropout", "Dropout", [g.add("gap", "GlobalAvgPool", [x])], { rate: 0.2 });
  g.add("fc", "Dense", [x], { units: numClasses });
  return g.graph();
}

export function zooTemplates(): ZooTemplate[] {
  const yolo = zooModels.filter((m) => m.name.startsWith("yolov8"));
  return [
    ...zooModels.filter((m) => !m.name.startsWith("yolov8")).map((m) => ({ name: m.name, task: m.task, description: m.description })),
    { name: "yolov8", task: "detect" as const, description: "YOLOv8 detector from yolov8.yaml; the scale switch shows each size's repeats and channels", scales: yolo.map((m) => m.name.slice(-1)) },
  ];
}

/** The template's graph; yolov8 takes `scale` (n, s, m, l, x). */
export function zooTemplateGraph(name: string, opts: { numClasses: number; scale?: string }): ModelGraph {
  switch (name) {
    case "reference-cnn":
      return referenceCnn(opts.numClasses);
    case "resnet18":
      return resnetTemplate([2, 2, 2, 2], opts.numClasses);
    case "resnet34":
      return resnetTemplate([3, 4, 6, 3], opts.numClasses);
    case "mobilenet_v2":
      return mobilenetTemplate(opts.numClasses);
    case "yolov8": {
      const scale = opts.scale ?? "n";
      if (!(scale in YOLOV8_SCALES)) throw new Error(`yolov8 has the scales ${Object.keys(YOLOV8_SCALES).join(", ")}, not "${scale}"`);
      return parseUltralyticsYaml(YOLOV8_YAML, { scale, nc: opts.numClasses }).graph;
    }
    default:
      throw new Error(`unknown template "${name}"; available: ${zooTemplates().map((t) => t.name).join(", ")}`);
  }
}
