// One pass of a model over a dataset split: the same preprocessing as the training loaders (classification:
// stretch to imgsz; detection: letterbox with grey 114), metrics as the training loop's validation computes
// them, per-image predictions, and time per image in each phase.

import type { ImagePrediction, ImageTruth, PredictedBox, ValidationSpeed } from "@/db/schema";
import type { Box } from "@/server/ml/augment/geometry";
import { decodeImage, decodeImageResized, letterbox } from "@/server/ml/data/image";
import { detectionFitness } from "@/server/ml/detect/adapter";
import { iouAt, type Xyxy } from "@/server/ml/detect/boxes";
import { makeAnchors } from "@/server/ml/detect/dfl";
import { nonMaxSuppression, type Detection } from "@/server/ml/detect/nms";
import { toSourcePixels } from "@/server/ml/detect/predict";
import { classificationMetrics } from "@/server/ml/metrics/classify";
import { DetectionMetrics, type DetectionReport } from "@/server/ml/metrics/detect";
import { classificationPrCurves, meanCurve } from "@/server/ml/metrics/pr-curve";
import type { EngineModel } from "./validate-model";

export interface ValidationItem {
  /** The dataset item's id. */
  id: number | null;
  /** Absolute path of the image. */
  file: string;
  /** Relative to the dataset folder. */
  path: string;
  /** As the dataset recorded them (classification images are stretched, so their size is not seen). */
  width: number;
  height: number;
  label?: number | null;
  boxes?: Box[] | null;
}

export interface ValidationOptions {
  batch: number;
  conf: number;
  iou: number;
  maxDet?: number;
}

export interface ImageResult {
  item: ValidationItem;
  width: number;
  height: number;
  predicted: ImagePrediction;
  truth: ImageTruth;
  correct: number | null;
}

export interface ValidationOutcome {
  metrics: Record<string, number>;
  details: Record<string, unknown>;
  curves: DetectionReport["curves"] | null;
  speed: ValidationSpeed;
  images: ImageResult[];
  skipped: { path: string; reason: string }[];
}

const TOP_K = 5;
const PAD = 114;

interface Prepared {
  item: ValidationItem;
  pixels: Uint8Array;
  width: number;
  height: number;
  /** Detection: how the source maps into the letterboxed input. */
  scale: number;
  padX: number;
  padY: number;
}

async function prepare(item: ValidationItem, task: EngineModel["task"], imgsz: number): Promise<Prepared> {
  if (task === "classify") {
    const img = await decodeImageResized(item.file, imgsz, imgsz);
    // The letterbox fields are unused for classification.
    return { item, pixels: img.data, width: item.width, height: item.height, scale: 1, padX: 0, padY: 0 };
  }
  const source = await decodeImage(item.file);
  const boxed = await letterbox(source, imgsz, PAD);
  return { item, pixels: boxed.img.data, width: source.width, height: source.height, scale: boxed.scale, padX: boxed.padX, padY: boxed.padY };
}

const sourceBox = (b: Box, width: number, height: number): Xyxy => [(b.x - b.w / 2) * width, (b.y - b.h / 2) * height, (b.x + b.w / 2) * width, (b.y + b.h / 2) * height];
const round = (v: number) => Math.round(v * 100) / 100;
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

/** PR curves at recall 0, .01 … 1 (detection at IoU .5; classification one-vs-rest): the mean over classes and each class. */
function prCurveDetails(perClass: (number[] | null)[]) {
  const mean = meanCurve(perClass);
  return { precision: mean?.map(round4) ?? null, perClass: perClass.map((c) => c?.map(round4) ?? null) };
}

/** Share of labelled boxes that a prediction of their class covers at IoU ≥ 0.5 (each prediction used once). */
function foundShare(predicted: PredictedBox[], truth: { box: Xyxy; cls: number }[]): number | null {
  if (truth.length === 0) return null;
  const used = new Set<number>();
  let found = 0;
  for (const gt of truth) {
    let best = -1;
    let bestIou = 0.5;
    predicted.forEach((p, i) => {
      if (used.has(i) || p.cls !== gt.cls) return;
      const iou = iouAt(p.box, 0, gt.box, 0);
      if (iou >= bestIou) {
        bestIou = iou;
        best = i;
      }
    });
    if (best >= 0) {
      used.add(best);
      found++;
    }
  }
  return found / truth.length;
}

/** Runs `model` over `items` in batches; unreadable images are skipped and named, as the training loaders do. */
export async function validateItems(model: EngineModel, items: ValidationItem[], opts: ValidationOptions): Promise<ValidationOutcome> {
  const { task, imgsz, classNames } = model;
  const nc = classNames.length;
  const pixelsPerImage = imgsz * imgsz * 3;
  const batch = model.fixedBatch ?? opts.batch;
  const anchors = task === "detect" ? makeAnchors(imgsz, imgsz).count : 0;
  const detection = new DetectionMetrics(nc);
  const scores: number[] = [];
  const labels: number[] = [];
  const images: ImageResult[] = [];
  const skipped: ValidationOutcome["skipped"] = [];
  const time = { preprocess: 0, inference: 0, postprocess: 0 };
  let instances = 0;
  const imagesPerClass = new Array<number>(nc).fill(0);

  for (let start = 0; start < items.length; start += batch) {
    let t = performance.now();
    const settled = await Promise.allSettled(items.slice(start, start + batch).map((item) => prepare(item, task, imgsz)));
    const ready: Prepared[] = [];
    settled.forEach((result, i) => {
      if (result.status === "fulfilled") ready.push(result.value);
      else skipped.push({ path: items[start + i].path, reason: (result.reason as Error)?.message ?? String(result.reason) });
    });
    if (ready.length === 0) continue;
    // A fixed-batch ONNX file gets a full batch; the padding images' outputs are dropped.
    const rows = model.fixedBatch ?? ready.length;
    const x = new Float32Array(rows * pixelsPerImage);
    ready.forEach((p, i) => {
      const offset = i * pixelsPerImage;
      for (let j = 0; j < pixelsPerImage; j++) x[offset + j] = p.pixels[j] / 255;
    });
    time.preprocess += performance.now() - t;

    t = performance.now();
    const output = await model.run(x, rows);
    time.inference += performance.now() - t;

    t = performance.now();
    if (task === "classify") {
      ready.forEach((p, i) => {
        const row = Array.from(output.subarray(i * nc, (i + 1) * nc));
        const label = p.item.label ?? 0;
        scores.push(...row);
        labels.push(label);
        const top = row.map((score, cls) => ({ cls, score })).sort((a, b) => b.score - a.score).slice(0, Math.min(TOP_K, nc));
        images.push({ item: p.item, width: p.item.width, height: p.item.height, predicted: { top }, truth: { label }, correct: top[0].cls === label ? 1 : 0 });
      });
    } else {
      const detections = nonMaxSuppression(output.subarray(0, ready.length * (4 + nc) * anchors), { batch: ready.length, numClasses: nc, anchors }, {
        conf: opts.conf,
        iou: opts.iou,
        maxDet: opts.maxDet ?? 300,
      });
      ready.forEach((p, i) => {
        const boxes = p.item.boxes ?? [];
        instances += boxes.length;
        for (const c of new Set(boxes.map((b) => b.cls))) imagesPerClass[c]++;
        // Metrics in the letterboxed input, as the training loop's validation computes them.
        const inInput = boxes.map((b) => {
          const [x1, y1, x2, y2] = sourceBox(b, p.width, p.height);
          return { cls: b.cls, box: [x1 * p.scale + p.padX, y1 * p.scale + p.padY, x2 * p.scale + p.padX, y2 * p.scale + p.padY] as Xyxy };
        });
        detection.add(detections[i], inInput);
        const predicted = toSourcePixels(detections[i], p, p.width, p.height).map((d: Detection) => ({ box: d.box.map(round) as Xyxy, score: d.score, cls: d.cls }));
        const truth = boxes.map((b) => ({ cls: b.cls, box: sourceBox(b, p.width, p.height).map(round) as Xyxy }));
        images.push({ item: p.item, width: p.width, height: p.height, predicted: { boxes: predicted }, truth: { boxes: truth }, correct: foundShare(predicted, truth) });
      });
    }
    time.postprocess += performance.now() - t;
  }

  const seen = images.length;
  const perImage = (ms: number) => (seen > 0 ? ms / seen : 0);
  const speed = { preprocess: perImage(time.preprocess), inference: perImage(time.inference), postprocess: perImage(time.postprocess) };
  if (task === "classify") {
    const scoreRows = Float32Array.from(scores);
    const labelList = Int32Array.from(labels);
    const m = classificationMetrics(scoreRows, labelList, nc);
    const meanOf = (values: number[]) => values.reduce((a, b) => a + b, 0) / nc;
    return {
      metrics: { top1_acc: m.top1, top3_acc: m.top3, top5_acc: m.top5, macro_f1: m.macro_f1, micro_f1: m.micro_f1, precision: meanOf(m.precision), recall: meanOf(m.recall) },
      details: { classNames, images: seen, precision: m.precision, recall: m.recall, confusion: m.confusion, prCurve: prCurveDetails(classificationPrCurves(scoreRows, labelList, nc)), skipped },
      curves: null,
      speed,
      images,
      skipped,
    };
  }
  const report = detection.compute();
  const values = { precision: report.precision, recall: report.recall, f1: report.f1, mAP50: report.mAP50, mAP50_95: report.mAP50_95 };
  return {
    metrics: { ...values, fitness: detectionFitness(values) },
    details: { classNames, images: seen, instances, imagesPerClass, perClass: report.perClass, confusion: report.confusion, bestConfidence: report.bestConfidence, prCurve: prCurveDetails(report.curves.pr.precision), skipped },
    curves: report.curves,
    speed,
    images,
    skipped,
  };
}
