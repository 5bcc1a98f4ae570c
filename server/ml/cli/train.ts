// `train`: every training setting as a key; model= a zoo name, a model yaml, a graph .json, a .pt to
// fine-tune from (Ultralytics' `model=yolov8n.pt`) or one of our checkpoints.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { readDetectDataset } from "../data/detect-format";
import { detectFormat } from "../data/detect-format";
import { readImageFolder } from "../data/imagefolder";
import { isYamlPath } from "../data/yolo";
import type { ModelGraph } from "../graph/schema";
import { parseUltralyticsYaml } from "../graph/ultralytics-yaml";
import { trainConfigSchema, type TrainConfigInput } from "../train/config";
import { train, type TrainEvent } from "../train/loop";
import { zooModels } from "../zoo/index";
import { CliError, runLocation, type CliArgs, type CliCommand, type KeyRule } from "./args";
import { resolveModel } from "./model-source";

/** Training settings that stay strings even when they look like numbers or booleans. */
const TEXT_KEYS = new Set(["data", "model", "project", "name", "runsDir", "pretrained", "device", "augment"]);

/**
 * Like Ultralytics, the task follows from the model: a zoo model's task, a graph with or without a Detect
 * node; otherwise from the data (a data.yaml or a detection layout means detect). Undefined when unknown.
 */
export async function inferTask(model: unknown, data: unknown): Promise<"classify" | "detect" | undefined> {
  if (typeof model === "string") {
    const zoo = zooModels.find((m) => m.name === model);
    if (zoo) return zoo.task;
  } else if (model && typeof model === "object" && Array.isArray((model as ModelGraph).nodes)) {
    return (model as ModelGraph).nodes.some((node) => node.type === "Detect") ? "detect" : "classify";
  }
  if (typeof data !== "string") return undefined;
  if (isYamlPath(data)) return "detect";
  return detectFormat(data).then(
    (found) => found.task,
    () => undefined,
  );
}

async function datasetClassCount(data: unknown, task: "classify" | "detect"): Promise<number> {
  if (typeof data !== "string" || data === "") throw new CliError("train needs data=…");
  const index = task === "detect" ? await readDetectDataset(data) : await readImageFolder(data);
  return index.classes.length;
}

/** `graph` predicting `numClasses`: the Detect node's nc, or the units of a classifier's output Dense. */
function withClassCount(graph: ModelGraph, numClasses: number): ModelGraph {
  const outputs = new Set(graph.nodes.filter((node) => !graph.edges.some((edge) => edge.source === node.id)).map((node) => node.id));
  const nodes = graph.nodes.map((node) => {
    if (node.type === "Detect") return { ...node, data: { ...node.data, nc: numClasses } };
    if (outputs.has(node.id) && /^(dense|linear)$/i.test(node.type)) return { ...node, data: { ...node.data, units: numClasses } };
    return node;
  });
  return { ...graph, nodes };
}

/** Turns CLI arguments into a training config input: models from files, project paths, resume=<run folder>. */
export async function trainInputFromArgs(args: CliArgs): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = { ...args };
  if (typeof args.augment === "string") input.augment = JSON.parse(await readFile(args.augment, "utf8"));
  if (typeof args.resume === "string") {
    const runDir = path.resolve(args.resume);
    Object.assign(input, { resume: true, name: path.basename(runDir), project: path.basename(path.dirname(runDir)), runsDir: path.dirname(path.dirname(runDir)) });
    return input;
  }
  if (typeof args.model === "string" && !zooModels.some((m) => m.name === args.model)) await modelFromFile(input, args.model);
  if (input.task === undefined) {
    const task = await inferTask(input.model, args.data);
    if (task) input.task = task;
  }
  if (typeof args.project === "string") Object.assign(input, runLocation(args, args.project));
  return input;
}

/** model= a file: the network it holds, and its weights as the pretrained start (unless pretrained= says otherwise). */
async function modelFromFile(input: Record<string, unknown>, value: string): Promise<void> {
  const source = await resolveModel(value, "train");
  const start = (file: string) => {
    if (input.pretrained === undefined) input.pretrained = file;
  };
  switch (source.kind) {
    case "graph":
      input.model = source.graph;
      return;
    case "yaml":
      input.task ??= source.task;
      input.model = parseUltralyticsYaml(source.text, { fileName: path.basename(source.file), nc: await datasetClassCount(input.data, source.task) }).graph;
      return;
    case "torch": {
      const { arch } = source;
      input.task ??= arch.task;
      input.model = arch.zooModel ?? arch.graph(await datasetClassCount(input.data, arch.task));
      start(source.file);
      return;
    }
    case "checkpoint": {
      const { header } = source;
      input.task ??= header.task;
      const trained = header.config.model;
      if (typeof trained === "string") input.model = trained;
      else if (header.graph) input.model = withClassCount(header.graph, await datasetClassCount(input.data, header.task));
      else throw new CliError(`model=${value}: the checkpoint has no model graph to train again; use pretrained=${value} with a model`);
      start(source.file);
      return;
    }
    case "onnx":
      throw new CliError(`model=${value}: an ONNX file cannot be trained; train from a .pt, a checkpoint or a zoo model`);
    case "zoo":
      return;
  }
}

function progressBar(done: number, total: number, width = 24): string {
  const filled = Math.round((done / Math.max(total, 1)) * width);
  return `[${"=".repeat(Math.max(filled - 1, 0))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
}

function textReporter(out: NodeJS.WriteStream): (event: TrainEvent) => void {
  const tty = out.isTTY;
  return (event) => {
    switch (event.type) {
      case "start":
        out.write(`${event.resumed ? "Resuming" : "Training"} ${event.task} in ${event.runDir} on ${event.backend.description}\n`);
        out.write(`${event.trainImages} train / ${event.valImages} val images, ${event.classNames.length} classes, ${event.params.toLocaleString("en")} parameters\n`);
        break;
      case "step":
        if (tty) {
          out.write(`\rEpoch ${event.epoch}/${event.epochs} ${progressBar(event.step, event.steps)} ${event.step}/${event.steps} loss ${event.loss.toFixed(4)} lr ${event.lr.toPrecision(3)} ${event.imgsPerSec.toFixed(1)} img/s`);
        }
        break;
      case "epoch_end": {
        const parts = Object.entries(event.metrics)
          .filter(([key]) => key !== "epoch_seconds")
          .map(([key, value]) => `${key} ${Number.isInteger(value) ? value : value.toFixed(4)}`);
        out.write(`${tty ? "\r\x1b[K" : ""}Epoch ${event.epoch}/${event.epochs} ${event.seconds.toFixed(1)}s ${parts.join(" ")}${event.isBest ? " *" : ""}\n`);
        break;
      }
      case "log":
        if (event.level !== "info" || event.stage === "start" || event.stage === "completed" || event.stage === "stopped") out.write(`${event.level === "info" ? "" : `${event.level}: `}${event.message}\n`);
        break;
      default:
        break;
    }
  };
}

export const trainCommand: CliCommand = {
  name: "train",
  keys: Object.fromEntries(Object.keys(trainConfigSchema.shape).map((key): [string, KeyRule] => [key, TEXT_KEYS.has(key) ? "text" : "auto"])),
  async run(args, out) {
    let request: "continue" | "stop" = "continue";
    const onSignal = () => {
      request = "stop";
    };
    process.once("SIGINT", onSignal);
    try {
      const report = out.json ? (event: TrainEvent) => out.print(JSON.stringify(event)) : textReporter(process.stdout);
      const result = await train((await trainInputFromArgs(args)) as TrainConfigInput, { onEvent: report, control: () => request });
      out.print(out.json ? JSON.stringify({ type: "result", ...result }) : `${result.status}: ${result.runDir} (best epoch ${result.bestEpoch})`);
    } finally {
      process.off("SIGINT", onSignal);
    }
  },
};
