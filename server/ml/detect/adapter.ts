// Detection plugged into the training loop (train/loop.ts) as a TaskAdapter: YOLO/COCO/VOC data, YOLOv8
// graphs, v8 detection loss, and validation with COCO mAP like Ultralytics' DetectionValidator.

import * as tf from "@tensorflow/tfjs";
import type { AugmentPipeline } from "../augment/pipeline";
import { createDetectLoader, type DetectBatch } from "../data/detect-loader";
import { DatasetError, type DetectIndex } from "../data/detect-index";
import { readDetectDataset } from "../data/detect-format";
import { compileGraph, GraphError, type ModelGraph } from "../graph/index";
import { DetectionMetrics, type DetectionReport } from "../metrics/detect";
import { inferenceOutput, registerTaskAdapter, type ModelForward, type TaskAdapter, type TaskLoader, type ValidationResult } from "../train/adapter";
import type { TrainConfig } from "../train/config";
import { zooGraph } from "../zoo/index";
import { makeAnchors, REG_MAX, type AnchorGrid } from "./dfl";
import { detectionLoss } from "./loss";
import { detectionsFromRaw } from "./predict";
import { formatValTable } from "./val-table";
import { createDetectLossTracker, detectDataParallel, type DetectLossOptions, type DetectLossTracker } from "./replica";

/** Ultralytics' default detection augmentation (hsv_h/s/v, translate, scale, fliplr) as our pipeline ops. */
export const DEFAULT_DETECT_AUGMENT: AugmentPipeline = [
  { op: "hue", p: 1, amount: 0.015 },
  { op: "saturation", p: 1, amount: 0.7 },
  { op: "brightness", p: 1, amount: 0.4 },
  { op: "translate", p: 1, fraction: 0.1, fill: 114 },
  { op: "scale", p: 1, range: [0.5, 1.5], fill: 114 },
  { op: "hflip", p: 0.5 },
];

/** Mosaic and close_mosaic come from the training config; these are validation settings. */
export interface DetectAdapterOptions {
  /** Validation NMS thresholds (Ultralytics val: conf 0.001, iou 0.7, max_det 300). */
  conf?: number;
  iou?: number;
  maxDet?: number;
}

/** 0.1·mAP50 + 0.9·mAP50-95, Ultralytics' detection fitness. */
export function detectionFitness(metrics: Record<string, number>): number {
  return 0.1 * (metrics.mAP50 ?? 0) + 0.9 * (metrics.mAP50_95 ?? 0);
}

export function buildDetectModel(model: string | ModelGraph, imgsz: number, classNames: string[], seed: number): { model: tf.LayersModel; graph: ModelGraph } {
  const graph = typeof model === "string" ? zooGraph(model, { imgsz, numClasses: classNames.length }) : model;
  const compiled = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed });
  const anchors = makeAnchors(imgsz, imgsz).count;
  const channels = 4 * REG_MAX + classNames.length;
  const shape = compiled.outputs[0].shape;
  if (compiled.outputs.length !== 1 || shape.length !== 3 || shape[1] !== anchors || shape[2] !== channels) {
    const shapes = compiled.outputs.map((o) => `[${o.shape.map((d) => d ?? "N").join(", ")}]`).join(", ");
    compiled.dispose();
    throw new GraphError(
      `the model's output ${shapes} does not fit detection of ${classNames.length} classes at imgsz ${imgsz}: expected one Detect output [N, ${anchors}, ${channels}] (set the Detect node's nc to ${classNames.length})`,
    );
  }
  return { model: compiled, graph };
}

export interface DetectEvaluation extends ValidationResult {
  report: DetectionReport;
}

/** Losses and COCO metrics of `model` over every batch of `loader`. */
export async function evaluateDetector(
  model: tf.LayersModel,
  loader: TaskLoader<DetectBatch>,
  classNames: string[],
  opts: DetectAdapterOptions = {},
  forward?: ModelForward,
): Promise<DetectEvaluation> {
  const nc = classNames.length;
  const metrics = new DetectionMetrics(nc);
  const sums = { box: 0, cls: 0, dfl: 0 };
  let seen = 0;
  let instances = 0;
  const imagesPerClass = new Array<number>(nc).fill(0);
  let grid: AnchorGrid | undefined;
  for await (const batch of loader.epoch(0)) {
    grid ??= makeAnchors(batch.imgsz, batch.imgsz);
    const anchorGrid = grid;
    const raw = await inferenceOutput(model, batch.x, [batch.size, batch.imgsz, batch.imgsz, 3], forward);
    const [box, cls, dfl] = tf.tidy(() => {
      const parts = detectionLoss(raw, batch.boxes, { numClasses: nc, imgsz: batch.imgsz, grid: anchorGrid });
      return [parts.box_loss, parts.cls_loss, parts.dfl_loss];
    });
    const rawData = (await raw.data()) as Float32Array;
    sums.box += (await box.data())[0] * batch.size;
    sums.cls += (await cls.data())[0] * batch.size;
    sums.dfl += (await dfl.data())[0] * batch.size;
    tf.dispose([raw, box, cls, dfl]);
    const detections = detectionsFromRaw(rawData, { batch: batch.size, numClasses: nc, imgsz: batch.imgsz, grid }, {
      conf: opts.conf ?? 0.001,
      iou: opts.iou ?? 0.7,
      maxDet: opts.maxDet ?? 300,
    });
    batch.boxes.forEach((boxes, i) => {
      const s = batch.imgsz;
      instances += boxes.length;
      for (const c of new Set(boxes.map((b) => b.cls))) imagesPerClass[c]++;
      metrics.add(
        detections[i],
        boxes.map((b) => ({ cls: b.cls, box: [(b.x - b.w / 2) * s, (b.y - b.h / 2) * s, (b.x + b.w / 2) * s, (b.y + b.h / 2) * s] })),
      );
    });
    seen += batch.size;
  }
  const report = metrics.compute();
  const values = {
    val_box_loss: seen > 0 ? sums.box / seen : NaN,
    val_cls_loss: seen > 0 ? sums.cls / seen : NaN,
    val_dfl_loss: seen > 0 ? sums.dfl / seen : NaN,
    precision: report.precision,
    recall: report.recall,
    mAP50: report.mAP50,
    mAP50_95: report.mAP50_95,
  };
  return {
    report,
    metrics: { ...values, fitness: detectionFitness(values) },
    details: { classNames, images: seen, instances, imagesPerClass, perClass: report.perClass, confusion: report.confusion, bestConfidence: report.bestConfidence },
    summary: formatValTable({ report, classNames, images: seen, imagesPerClass }),
  };
}

export function createDetectAdapter(opts: DetectAdapterOptions = {}): TaskAdapter<DetectBatch> {
  let classNames: string[] = [];
  let imgsz = 0;
  let tracker: DetectLossTracker | undefined;
  const lossOptions = (): DetectLossOptions => ({ numClasses: classNames.length, imgsz });

  return {
    task: "detect",
    bestMetricName: "best_fitness",
    resultsColumns: [
      ["train_box_loss", "train/box_loss"],
      ["train_cls_loss", "train/cls_loss"],
      ["train_dfl_loss", "train/dfl_loss"],
      ["precision", "metrics/precision(B)"],
      ["recall", "metrics/recall(B)"],
      ["mAP50", "metrics/mAP50(B)"],
      ["mAP50_95", "metrics/mAP50-95(B)"],
      ["val_box_loss", "val/box_loss"],
      ["val_cls_loss", "val/cls_loss"],
      ["val_dfl_loss", "val/dfl_loss"],
    ],

    async prepare(config: TrainConfig, log) {
      const index: DetectIndex = typeof config.data === "string" ? await readDetectDataset(config.data, { seed: config.seed }) : (config.data as unknown as DetectIndex);
      if (index.task !== "detect") throw new DatasetError(`dataset ${index.root} is a ${String(index.task)} dataset, not a detection dataset`);
      classNames = index.classes;
      imgsz = config.imgsz;
      if (imgsz % 32 !== 0) throw new DatasetError(`imgsz must be a multiple of 32 for detection, got ${imgsz}`);
      tracker = createDetectLossTracker(lossOptions());
      const trainItems = index.items.filter((i) => i.split === "train");
      const valItems = index.items.filter((i) => i.split === "val");
      if (trainItems.length === 0) throw new DatasetError(`dataset ${index.root} has no training images`);
      if (config.val && valItems.length === 0) log(`dataset ${index.root} has no validation images; validation is skipped`, "warn");
      for (const p of index.problems.slice(0, 20)) log(`label problem in ${p.path}${p.line ? `:${p.line}` : ""}: ${p.reason}`, "warn");
      if (index.problems.length > 20) log(`${index.problems.length - 20} more label problems not shown`, "warn");
      for (const s of index.skipped.slice(0, 20)) log(`skipped ${s.path}: ${s.reason}`, "warn");
      const boxes = trainItems.reduce((n, i) => n + i.boxes.length, 0);
      log(`Dataset ${index.root} (${index.format}): ${trainItems.length} training images with ${boxes} boxes, ${valItems.length} validation images, ${classNames.length} classes (${classNames.join(", ")})`);
      if (config.cache === "disk") log("cache=disk is not available for detection; using ram", "warn");
      const cache = config.cache === false ? false : "ram";

      const { model, graph } = buildDetectModel(config.model, imgsz, classNames, config.seed);
      const trainLoader = createDetectLoader(trainItems, {
        imgsz,
        batch: config.batch,
        shuffle: true,
        seed: config.seed,
        augment: config.augment ?? DEFAULT_DETECT_AUGMENT,
        mosaic: config.mosaic,
        closeMosaic: config.close_mosaic,
        epochs: config.epochs,
        cache,
      });
      const valLoader = valItems.length > 0 ? createDetectLoader(valItems, { imgsz, batch: config.batch, shuffle: false, seed: config.seed, cache }) : undefined;
      return { model, graph, trainLoader, valLoader, classNames, inputShape: [imgsz, imgsz, 3] };
    },

    inputs(batch) {
      return tf.tensor4d(batch.x, [batch.size, batch.imgsz, batch.imgsz, 3]);
    },

    loss(outputs, batch) {
      if (!tracker) throw new Error("detect adapter used before prepare()");
      return tracker.loss(outputs, batch.boxes);
    },

    trainMetrics() {
      return tracker?.parts() ?? {};
    },

    dataParallel: detectDataParallel(lossOptions),

    async validate(model, loader, forward) {
      const { metrics, details, report, summary } = await evaluateDetector(model, loader, classNames, opts, forward);
      return { metrics, details, summary, plots: { detectionCurves: report.curves } };
    },

    fitness: detectionFitness,

    logLines(stage, m) {
      const f = (v: number | undefined) => (v ?? NaN).toFixed(4);
      if (stage === "train") return [`Train box_loss: ${f(m.train_box_loss)}, cls_loss: ${f(m.train_cls_loss)}, dfl_loss: ${f(m.train_dfl_loss)}`];
      if (stage === "validation") {
        return [
          `Validation box_loss: ${f(m.val_box_loss)}, cls_loss: ${f(m.val_cls_loss)}, dfl_loss: ${f(m.val_dfl_loss)}`,
          `Validation P: ${f(m.precision)}, R: ${f(m.recall)}, mAP50: ${f(m.mAP50)}, mAP50-95: ${f(m.mAP50_95)}`,
        ];
      }
      return m.mAP50_95 === undefined ? [] : [`New best model saved with mAP50-95: ${f(m.mAP50_95)} (fitness ${f(detectionFitness(m))})`];
    },
  };
}

registerTaskAdapter("detect", createDetectAdapter);
