// `val`: metrics of a checkpoint, run folder, .pt or detection .onnx on a dataset split, printed as
// Ultralytics prints them, with its plots written to runs/<task>/val.
import { initBackend, parseDevice } from "../backend/index";
import { decodeImage } from "../data/image";
import { readDetectDataset } from "../data/detect-format";
import { createDetectLoader } from "../data/detect-loader";
import { readImageFolder } from "../data/imagefolder";
import { createClassifyLoader } from "../data/loader";
import { evaluateDetector } from "../detect/adapter";
import { onnxDetector } from "../detect/predictor";
import { formatValTable } from "../detect/val-table";
import { DetectionMetrics } from "../metrics/detect";
import { evaluateClassifier } from "../train/classify";
import { validationPlots, writePlots, type ValidationPlotData } from "../train/plots";
import { CliError, numberOr, requireArg, runLocation, type CliArgs, type CliCommand, type CliOutput } from "./args";
import { createNumberedFolder } from "./folders";
import { loadModel, resolveModel, type LoadedModel } from "./model-source";

interface Validation {
  metrics: Record<string, number>;
  details?: Record<string, unknown>;
  summary?: string[];
  plots?: ValidationPlotData;
}

function sameClasses(dataset: string[], model: string[]): void {
  if (dataset.join("\u0000") !== model.join("\u0000")) {
    throw new CliError(`dataset classes [${dataset.join(", ")}] differ from the model's classes [${model.join(", ")}]`);
  }
}

async function detectItems(data: string, seed: number, classNames: string[], split: string) {
  const index = await readDetectDataset(data, { seed });
  sameClasses(index.classes, classNames);
  const items = index.items.filter((item) => item.split === split);
  if (items.length === 0) throw new CliError(`dataset ${index.root} has no ${split} images`);
  return items;
}

async function validateLoaded(loaded: LoadedModel, args: CliArgs, split: string): Promise<Validation> {
  // The training data and seed (which reproduces the split of datasets that have none) unless data= is given.
  const data = args.data ?? loaded.config.data;
  if (typeof data !== "string" || data === "") throw new CliError("val needs data=… (the model does not name its dataset)");
  const seed = Number(loaded.config.seed ?? 0);
  if (loaded.task === "detect") {
    const items = await detectItems(data, seed, loaded.classNames, split);
    const loader = createDetectLoader(items, { imgsz: loaded.imgsz, batch: Number(args.batch ?? 16), shuffle: false, seed: 0 });
    try {
      const result = await evaluateDetector(loaded.model, loader, loaded.classNames, { conf: numberOr(args, "conf"), iou: numberOr(args, "iou") });
      return { ...result, plots: { detectionCurves: result.report.curves } };
    } finally {
      await loader.close();
    }
  }
  const index = await readImageFolder(data, { seed });
  sameClasses(index.classes, loaded.classNames);
  const items = index.items.filter((item) => item.split === split);
  if (items.length === 0) throw new CliError(`dataset ${index.root} has no ${split} images`);
  const loader = createClassifyLoader(items, { imgsz: loaded.imgsz, batch: Number(args.batch ?? 32), shuffle: false, seed: 0 });
  try {
    return await evaluateClassifier(loaded.model, loader, loaded.classNames);
  } finally {
    await loader.close();
  }
}

/** A detection .onnx on ONNX Runtime: each image letterboxed, decoded and NMS'd as predict does, scored in its own pixels. */
async function validateOnnx(file: string, args: CliArgs, split: string): Promise<Validation & { classNames: string[] }> {
  const detector = await onnxDetector(file);
  try {
    const items = await detectItems(requireArg(args, "data", "val"), 0, detector.classNames, split);
    const metrics = new DetectionMetrics(detector.classNames.length);
    const imagesPerClass = new Array<number>(detector.classNames.length).fill(0);
    for (const item of items) {
      const img = await decodeImage(item.path);
      const detections = await detector.detect(img, { conf: numberOr(args, "conf") ?? 0.001, iou: numberOr(args, "iou") ?? 0.7, maxDet: 300 });
      const [w, h] = [img.width, img.height];
      for (const c of new Set(item.boxes.map((b) => b.cls))) imagesPerClass[c]++;
      metrics.add(detections, item.boxes.map((b) => ({ cls: b.cls, box: [(b.x - b.w / 2) * w, (b.y - b.h / 2) * h, (b.x + b.w / 2) * w, (b.y + b.h / 2) * h] })));
    }
    const report = metrics.compute();
    return {
      classNames: detector.classNames,
      metrics: { precision: report.precision, recall: report.recall, mAP50: report.mAP50, mAP50_95: report.mAP50_95 },
      details: { classNames: detector.classNames, images: items.length, perClass: report.perClass, confusion: report.confusion },
      summary: formatValTable({ report, classNames: detector.classNames, images: items.length, imagesPerClass }),
      plots: { detectionCurves: report.curves },
    };
  } finally {
    await detector.release();
  }
}

async function report(validation: Validation, task: "classify" | "detect", classNames: string[], args: CliArgs, split: string, out: CliOutput, trainedIn?: unknown): Promise<void> {
  if (out.json) out.print(JSON.stringify({ type: "validation", split, metrics: validation.metrics, details: validation.details }));
  else if (validation.summary && task === "detect") for (const line of validation.summary) out.print(line);
  else for (const [key, value] of Object.entries(validation.metrics)) out.print(`${key}: ${value.toFixed(4)}`);
  const { runsDir, project } = runLocation(args, task, typeof trainedIn === "string" ? trainedIn : undefined);
  const dir = await createNumberedFolder(runsDir, project, String(args.name ?? "val"));
  await writePlots(dir, validationPlots(task, classNames, validation));
  out.note(`Results saved to ${dir}`);
}

export const valCommand: CliCommand = {
  name: "val",
  keys: {
    model: "text",
    data: "text",
    batch: { integer: true, min: 1 },
    imgsz: { integer: true, min: 32 },
    device: "text",
    split: "text",
    conf: "number",
    iou: "number",
    project: "text",
    name: "text",
    runsDir: "text",
  },
  async run(args, out) {
    const split = String(args.split ?? "val");
    const source = await resolveModel(requireArg(args, "model", "val"), "val");
    if (source.kind === "onnx") {
      const validation = await validateOnnx(source.file, args, split);
      return report(validation, "detect", validation.classNames, args, split, out);
    }
    await initBackend(parseDevice(String(args.device ?? "auto")));
    const loaded = await loadModel(source, "val", numberOr(args, "imgsz"));
    try {
      await report(await validateLoaded(loaded, args, split), loaded.task, loaded.classNames, args, split, out, loaded.config.runsDir);
    } finally {
      loaded.model.dispose();
    }
  },
};
