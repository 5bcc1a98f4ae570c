// `info`: the summary line Ultralytics' model.info() prints, for a zoo name, a model yaml, a .pt or
// one of our checkpoints: "YOLOv8n summary: 129 layers, 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs".
import path from "node:path";
import { parseUltralyticsYaml } from "../graph/ultralytics-yaml";
import { ultralyticsInfo, ultralyticsSummaryLine } from "../graph/ultralytics-info";
import type { ModelGraph } from "../graph/schema";
import { ultralyticsModelName } from "../io/torch-architecture";
import { zooTemplateGraph } from "../zoo/templates";
import { CliError, numberOr, requireArg, type CliCommand } from "./args";
import { resolveModel, type ModelSource } from "./model-source";

/** COCO's 80 classes: what a yaml or zoo model has before a dataset says otherwise. */
const DEFAULT_CLASSES = 80;

function describe(source: ModelSource): { name: string; graph: ModelGraph } {
  switch (source.kind) {
    case "zoo": {
      const yolo = /^yolov8([nsmlx])$/.exec(source.name);
      const graph = yolo ? zooTemplateGraph("yolov8", { numClasses: DEFAULT_CLASSES, scale: yolo[1] }) : zooTemplateGraph(source.name, { numClasses: 1000 });
      return { name: yolo ? ultralyticsModelName(source.name) : source.name, graph };
    }
    case "yaml":
      return { name: ultralyticsModelName(source.file), graph: parseUltralyticsYaml(source.text, { fileName: path.basename(source.file) }).graph };
    case "graph":
      return { name: path.basename(source.file, ".json"), graph: source.graph };
    case "torch":
      return { name: source.arch.displayName, graph: source.arch.graph(source.arch.classNames.length) };
    case "checkpoint": {
      if (!source.header.graph) throw new CliError(`${source.file} has no model graph to count`);
      const model = source.header.config.model;
      return { name: typeof model === "string" ? ultralyticsModelName(model) : "Model", graph: source.header.graph };
    }
    case "onnx":
      throw new CliError(`model=${source.file}: info counts the layers of a model graph; an ONNX file has none (its inputs and outputs are in the weights library)`);
  }
}

export const infoCommand: CliCommand = {
  name: "info",
  keys: { model: "text", imgsz: { integer: true, min: 32 } },
  async run(args, out) {
    const source = await resolveModel(requireArg(args, "model", "info"), "info");
    const { name, graph } = describe(source);
    // model.info() counts FLOPs at 640 px unless told.
    const imgsz = numberOr(args, "imgsz") ?? 640;
    const info = ultralyticsInfo(graph, imgsz);
    out.print(out.json ? JSON.stringify({ type: "info", model: name, imgsz, ...info }) : ultralyticsSummaryLine(name, info));
  },
};
