// Which network a PyTorch checkpoint holds, as one of our graphs: an Ultralytics checkpoint by the model
// yaml it carries, a bare state dict by its module names and shapes (YOLOv8 n–x, torchvision ResNet-18/34
// and MobileNetV2). The weights go in by module name (torch-to-graph.ts).
import type * as tf from "@tensorflow/tfjs";
import { compileGraph } from "../graph/compile";
import type { ModelGraph } from "../graph/schema";
import { parseUltralyticsYaml } from "../graph/ultralytics-yaml";
import { zooTemplateGraph } from "../zoo/templates";
import { UnreadableWeightsError } from "./errors";
import { loadTorchTensors, torchNamerForZooModel, withTorchBatchNorms, type ModuleNamer } from "./torch-to-graph";
import type { TorchCheckpoint } from "./torch-zip";

export interface TorchArchitecture {
  task: "classify" | "detect";
  /** The checkpoint's class names, else class0, class1 … for its class count. */
  classNames: string[];
  /** The size it was trained at (train_args.imgsz), else Ultralytics' and torchvision's defaults. */
  imgsz: number;
  /** The zoo model it is, when it is one (a state dict, or a yaml of a standard scale is still a yaml graph). */
  zooModel: string | null;
  /** "YOLOv8n" as Ultralytics names a model by its yaml file; else the zoo name. */
  displayName: string;
  /** The network for `numClasses` classes, drawn with blocks where it has them. */
  graph(numClasses: number): ModelGraph;
  namer: ModuleNamer;
}

const YOLOV8_SCALE_BY_STEM_WIDTH: Record<number, string> = { 16: "n", 32: "s", 48: "m", 64: "l", 80: "x" };

const PUBLISHED_STEM_WIDTH: Record<string, number> = { resnet18: 64, resnet34: 64, mobilenet_v2: 32 };

const shapeOf = (checkpoint: TorchCheckpoint, name: string) => checkpoint.tensors.get(name)?.shape;

/** Ultralytics names a model by its yaml file's stem with "yolo" capitalised ("yolov8n.yaml" → "YOLOv8n"). */
export function ultralyticsModelName(fileOrStem: string): string {
  const stem = fileOrStem.split(/[\\/]/).pop()!.replace(/\.(ya?ml|pt|pth)$/i, "");
  return stem.replace(/^yolo/, "YOLO");
}

/** The module namer of a yaml-built YOLO graph: the zoo yolov8 naming, with Detect at its own row. */
function yoloNamer(detectRow: number): ModuleNamer {
  const zoo = torchNamerForZooModel("yolov8n")!;
  return (layer, layers) => {
    const name = zoo(layer, layers);
    return name && layer.startsWith("detect_") ? name.replace(/^model\.\d+\./, `model.${detectRow}.`) : name;
  };
}

function fromUltralyticsYaml(checkpoint: TorchCheckpoint, yaml: Record<string, unknown>, fileName: string): TorchArchitecture {
  if (checkpoint.task && checkpoint.task !== "detect") {
    throw new UnreadableWeightsError(`${fileName} is an Ultralytics ${checkpoint.task} model; the engine trains detect and classify models`);
  }
  const yamlFile = typeof yaml.yaml_file === "string" ? yaml.yaml_file : fileName;
  const scale = typeof yaml.scale === "string" ? yaml.scale : undefined;
  const parse = (nc?: number) => parseUltralyticsYaml(JSON.stringify(yaml), { scale, nc, fileName: yamlFile });
  const parsed = parse();
  const rows = [...(yaml.backbone as unknown[]), ...((yaml.head as unknown[] | undefined) ?? [])];
  const nc = checkpoint.nc ?? parsed.nc;
  return {
    task: parsed.task,
    classNames: checkpoint.names ?? Array.from({ length: nc }, (_, i) => `class${i}`),
    imgsz: checkpoint.imgsz?.[0] ?? 640,
    zooModel: null,
    displayName: ultralyticsModelName(yamlFile),
    graph: (numClasses) => parse(numClasses).graph,
    namer: yoloNamer(rows.length - 1),
  };
}

/** A bare state dict: the zoo network its names and shapes say, with its class count. */
function fromStateDict(checkpoint: TorchCheckpoint, fileName: string): TorchArchitecture {
  const names = [...checkpoint.tensors.keys()];
  const has = (name: string) => checkpoint.tensors.has(name);
  let zoo: string;
  let nc: number | undefined;
  if (has("model.0.conv.weight")) {
    const scale = YOLOV8_SCALE_BY_STEM_WIDTH[shapeOf(checkpoint, "model.0.conv.weight")![0]];
    if (!scale) throw new UnreadableWeightsError(`${fileName}: a YOLO state dict whose first conv has ${shapeOf(checkpoint, "model.0.conv.weight")![0]} filters matches no YOLOv8 scale (n 16, s 32, m 48, l 64, x 80)`);
    zoo = `yolov8${scale}`;
    nc = shapeOf(checkpoint, "model.22.cv3.0.2.weight")?.[0];
  } else if (has("conv1.weight") && has("layer1.0.conv1.weight")) {
    zoo = has("layer3.5.conv1.weight") ? "resnet34" : "resnet18";
    nc = shapeOf(checkpoint, "fc.weight")?.[0];
  } else if (has("features.0.0.weight") && has("classifier.1.weight")) {
    zoo = "mobilenet_v2";
    nc = shapeOf(checkpoint, "classifier.1.weight")?.[0];
  } else {
    throw new UnreadableWeightsError(
      `${fileName}: cannot tell which network these tensors are for (${names.slice(0, 4).join(", ")} …); the engine reads YOLOv8 n–x, resnet18, resnet34 and mobilenet_v2 state dicts and Ultralytics checkpoints`,
    );
  }
  if (nc === undefined) throw new UnreadableWeightsError(`${fileName}: the ${zoo} state dict has no head to tell its class count`);
  const stem = shapeOf(checkpoint, zoo === "mobilenet_v2" ? "features.0.0.weight" : "conv1.weight")?.[0];
  if (!zoo.startsWith("yolov8") && stem !== PUBLISHED_STEM_WIDTH[zoo]) {
    throw new UnreadableWeightsError(`${fileName}: a ${zoo} state dict whose first conv has ${stem} filters, not the published network's ${PUBLISHED_STEM_WIDTH[zoo]}`);
  }
  const detect = zoo.startsWith("yolov8");
  return {
    task: detect ? "detect" : "classify",
    classNames: checkpoint.names ?? Array.from({ length: nc }, (_, i) => `class${i}`),
    imgsz: checkpoint.imgsz?.[0] ?? (detect ? 640 : 224),
    zooModel: zoo,
    displayName: detect ? ultralyticsModelName(zoo) : zoo,
    graph: (numClasses) => (detect ? zooTemplateGraph("yolov8", { numClasses, scale: zoo.slice(-1) }) : zooTemplateGraph(zoo, { numClasses })),
    namer: torchNamerForZooModel(zoo)!,
  };
}

export function torchArchitecture(checkpoint: TorchCheckpoint, fileName: string): TorchArchitecture {
  const yaml = checkpoint.yaml;
  if (yaml && Array.isArray(yaml.backbone)) return fromUltralyticsYaml(checkpoint, yaml, fileName);
  return fromStateDict(checkpoint, fileName);
}

/**
 * The checkpoint's network compiled at `imgsz` for its own classes, with its weights (and its BatchNorm
 * eps/momentum). Every layer must take its tensors; the error names those that did not.
 */
export function torchModel(checkpoint: TorchCheckpoint, arch: TorchArchitecture, imgsz: number): { model: tf.LayersModel; graph: ModelGraph } {
  const graph = withTorchBatchNorms(arch.graph(arch.classNames.length), checkpoint.batchNorms, arch.namer);
  const model = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 0 });
  const report = loadTorchTensors(model, checkpoint.tensors, arch.namer);
  if (report.skipped.length > 0) {
    model.dispose();
    const which = report.skipped.slice(0, 3).map((s) => `${s.layer}: ${s.reason}`).join("; ");
    throw new UnreadableWeightsError(`the tensors do not fit ${arch.displayName} with ${arch.classNames.length} classes (${report.skipped.length} layers, e.g. ${which})`);
  }
  return { model, graph };
}
