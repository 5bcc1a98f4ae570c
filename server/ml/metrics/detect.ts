// Detection metrics. Matching and AP follow the COCO evaluation (per image and class, detections in
// score order take the best still-unmatched ground truth with IoU >= t; 101-point interpolated precision;
// IoU thresholds .50:.05:.95). Precision/recall/F1 at the best-F1 confidence and the confusion matrix
// follow Ultralytics (ap_per_class, ConfusionMatrix), so figures read like an Ultralytics run.

import { iouAt, type Xyxy } from "../detect/boxes";
import type { Detection } from "../detect/nms";
import { CONFUSION_DEFAULTS, confusionPairs } from "./per-image";

export interface GroundTruthBox {
  box: Xyxy;
  cls: number;
}

export const IOU_THRESHOLDS = Array.from({ length: 10 }, (_, i) => 0.5 + 0.05 * i);
const RECALL_POINTS = Array.from({ length: 101 }, (_, i) => i / 100);
const CONFIDENCE_POINTS = 1000;

export interface ClassDetectionMetrics {
  cls: number;
  instances: number;
  /** null when the class has no ground truth (AP undefined, as in COCO). */
  ap50: number | null;
  ap50_95: number | null;
  precision: number;
  recall: number;
}

export interface DetectionReport {
  precision: number;
  recall: number;
  f1: number;
  /** Confidence at which mean F1 over classes peaks (precision/recall/f1 are read there). */
  bestConfidence: number;
  mAP50: number;
  mAP50_95: number;
  perClass: ClassDetectionMetrics[];
  /** [pred][gt], index numClasses = background (Ultralytics layout). */
  confusion: number[][];
  curves: {
    /** Precision (envelope) at recall 0, .01, ... 1 for IoU .5, per class; null without ground truth. */
    pr: { recall: number[]; precision: (number[] | null)[] };
    /** Precision, recall and F1 against confidence thresholds, per class (IoU .5). */
    confidence: { threshold: number[]; precision: number[][]; recall: number[][]; f1: number[][] };
  };
}

interface ScoredMatch {
  score: number;
  /** Whether the detection is a true positive at each IoU threshold. */
  tp: Uint8Array;
}

export interface DetectionMetricsOptions {
  /** Confusion matrix: detections at or below this score are ignored (Ultralytics: 0.25). */
  confusionConf?: number;
  /** Confusion matrix: minimum IoU (exclusive) for a detection to count against a ground truth (Ultralytics: 0.45). */
  confusionIou?: number;
}

/** Accumulates predictions and ground truth image by image, then computes the report. */
export class DetectionMetrics {
  private readonly matches: ScoredMatch[][];
  private readonly instances: number[];
  private readonly confusion: number[][];
  private readonly confusionConf: number;
  private readonly confusionIou: number;

  constructor(
    readonly numClasses: number,
    opts: DetectionMetricsOptions = {},
  ) {
    this.matches = Array.from({ length: numClasses }, () => []);
    this.instances = new Array(numClasses).fill(0);
    this.confusion = Array.from({ length: numClasses + 1 }, () => new Array(numClasses + 1).fill(0));
    this.confusionConf = opts.confusionConf ?? CONFUSION_DEFAULTS.conf;
    this.confusionIou = opts.confusionIou ?? CONFUSION_DEFAULTS.iou;
  }

  /** Add one image's detections (any order) and ground-truth boxes (same coordinate space). */
  add(detections: Detection[], groundTruth: GroundTruthBox[]): void {
    for (const d of detections) this.checkClass(d.cls, "detection");
    for (const g of groundTruth) {
      this.checkClass(g.cls, "ground truth");
      this.instances[g.cls]++;
    }
    for (let c = 0; c < this.numClasses; c++) {
      const dets = detections.filter((d) => d.cls === c);
      if (dets.length === 0) continue;
      const gts = groundTruth.filter((g) => g.cls === c);
      this.matches[c].push(...matchCoco(dets, gts));
    }
    this.addToConfusion(detections, groundTruth);
  }

  compute(): DetectionReport {
    const nc = this.numClasses;
    const thresholds = Array.from({ length: CONFIDENCE_POINTS }, (_, i) => i / (CONFIDENCE_POINTS - 1));
    const labelled: number[] = [];
    const perClass: ClassDetectionMetrics[] = [];
    const prCurves: (number[] | null)[] = [];
    const pCurves: number[][] = [];
    const rCurves: number[][] = [];
    const f1Curves: number[][] = [];
    for (let c = 0; c < nc; c++) {
      const n = this.instances[c];
      const sorted = [...this.matches[c]].sort((a, b) => b.score - a.score);
      const aps: number[] = [];
      let pr50: number[] | null = null;
      if (n > 0) {
        labelled.push(c);
        for (let t = 0; t < IOU_THRESHOLDS.length; t++) {
          const { ap, curve } = cocoAp(sorted, t, n);
          aps.push(ap);
          if (t === 0) pr50 = curve;
        }
      }
      const { precision, recall } = confidenceCurves(sorted, n, thresholds);
      pCurves.push(precision);
      rCurves.push(recall);
      f1Curves.push(precision.map((p, i) => (2 * p * recall[i]) / (p + recall[i] + 1e-16)));
      prCurves.push(pr50);
      perClass.push({
        cls: c,
        instances: n,
        ap50: n > 0 ? aps[0] : null,
        ap50_95: n > 0 ? mean(aps) : null,
        precision: 0,
        recall: 0,
      });
    }

    // Best confidence from the (smoothed) mean F1 over classes that have labels, as Ultralytics does.
    let best = 0;
    if (labelled.length > 0) {
      const meanF1 = thresholds.map((_, i) => mean(labelled.map((c) => f1Curves[c][i])));
      const smoothed = boxFilter(meanF1, 0.1);
      for (let i = 1; i < smoothed.length; i++) if (smoothed[i] > smoothed[best]) best = i;
    }
    for (const c of labelled) {
      perClass[c].precision = pCurves[c][best];
      perClass[c].recall = rCurves[c][best];
    }
    const precision = mean(labelled.map((c) => perClass[c].precision));
    const recall = mean(labelled.map((c) => perClass[c].recall));
    return {
      precision,
      recall,
      f1: mean(labelled.map((c) => f1Curves[c][best])),
      bestConfidence: thresholds[best],
      mAP50: mean(labelled.map((c) => perClass[c].ap50 as number)),
      mAP50_95: mean(labelled.map((c) => perClass[c].ap50_95 as number)),
      perClass,
      confusion: this.confusion.map((row) => [...row]),
      curves: {
        pr: { recall: RECALL_POINTS, precision: prCurves },
        confidence: { threshold: thresholds, precision: pCurves, recall: rCurves, f1: f1Curves },
      },
    };
  }

  private checkClass(cls: number, what: string): void {
    if (!Number.isInteger(cls) || cls < 0 || cls >= this.numClasses) {
      throw new RangeError(`${what} class ${cls} is outside 0..${this.numClasses - 1}`);
    }
  }

  /** Ultralytics ConfusionMatrix.process_batch (per-image.ts, shared with the per-image results). */
  private addToConfusion(detections: Detection[], groundTruth: GroundTruthBox[]): void {
    for (const [predicted, actual] of confusionPairs(detections, groundTruth, this.numClasses, { conf: this.confusionConf, iou: this.confusionIou })) this.confusion[predicted][actual]++;
  }
}

/** COCO evaluateImg for one image and class: greedy in score order, each detection takes the best free gt. */
function matchCoco(dets: Detection[], gts: GroundTruthBox[]): ScoredMatch[] {
  const order = dets.map((_, i) => i).sort((a, b) => dets[b].score - dets[a].score);
  const ious = order.map((i) => gts.map((g) => iouAt(dets[i].box, 0, g.box, 0)));
  const out: ScoredMatch[] = order.map((i) => ({ score: dets[i].score, tp: new Uint8Array(IOU_THRESHOLDS.length) }));
  IOU_THRESHOLDS.forEach((t, ti) => {
    const taken = new Uint8Array(gts.length);
    for (let k = 0; k < order.length; k++) {
      let bestIou = Math.min(t, 1 - 1e-10);
      let bestGt = -1;
      for (let g = 0; g < gts.length; g++) {
        if (taken[g] || ious[k][g] < bestIou) continue;
        bestIou = ious[k][g];
        bestGt = g;
      }
      if (bestGt >= 0) {
        taken[bestGt] = 1;
        out[k].tp[ti] = 1;
      }
    }
  });
  return out;
}

/** COCO accumulate: precision envelope sampled at 101 recall points; AP is their mean. */
function cocoAp(sorted: ScoredMatch[], t: number, positives: number): { ap: number; curve: number[] } {
  const recall: number[] = [];
  const precision: number[] = [];
  let tp = 0;
  let fp = 0;
  for (const m of sorted) {
    if (m.tp[t]) tp++;
    else fp++;
    recall.push(tp / positives);
    precision.push(tp / (tp + fp));
  }
  for (let i = precision.length - 1; i > 0; i--) precision[i - 1] = Math.max(precision[i - 1], precision[i]);
  const curve = RECALL_POINTS.map((r) => {
    const i = lowerBound(recall, r);
    return i < precision.length ? precision[i] : 0;
  });
  return { ap: mean(curve), curve };
}

/** Ultralytics' per-class precision/recall against confidence (IoU .5), by linear interpolation over scores. */
function confidenceCurves(sorted: ScoredMatch[], positives: number, thresholds: number[]) {
  if (sorted.length === 0 || positives === 0) {
    return { precision: thresholds.map(() => 0), recall: thresholds.map(() => 0) };
  }
  const scores = sorted.map((m) => m.score);
  const recall: number[] = [];
  const precision: number[] = [];
  let tp = 0;
  sorted.forEach((m, i) => {
    tp += m.tp[0];
    recall.push(tp / (positives + 1e-16));
    precision.push(tp / (i + 1));
  });
  // np.interp(-x, -conf, values, left=...): scores are decreasing, so negate to get an increasing axis.
  const negScores = scores.map((s) => -s);
  return {
    precision: thresholds.map((x) => interp(-x, negScores, precision, 1)),
    recall: thresholds.map((x) => interp(-x, negScores, recall, 0)),
  };
}

/** numpy.interp for an increasing xp; `left` below the range, last value above it. */
function interp(x: number, xp: number[], fp: number[], left: number): number {
  if (x < xp[0]) return left;
  const last = xp.length - 1;
  if (x >= xp[last]) return fp[last];
  let i = upperBound(xp, x) - 1;
  while (i < last && xp[i + 1] === xp[i]) i++;
  const x0 = xp[i];
  const x1 = xp[i + 1];
  return x1 === x0 ? fp[i + 1] : fp[i] + ((fp[i + 1] - fp[i]) * (x - x0)) / (x1 - x0);
}

function lowerBound(values: number[], target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(values: number[], target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Ultralytics `smooth`: box filter of width ~2*fraction*len, edges padded with the end values. */
function boxFilter(y: number[], fraction: number): number[] {
  const width = Math.floor(Math.round(y.length * fraction * 2) / 2) + 1;
  const half = Math.floor(width / 2);
  const padded = [...new Array(half).fill(y[0]), ...y, ...new Array(half).fill(y[y.length - 1])];
  const out: number[] = [];
  let sum = padded.slice(0, width).reduce((a, b) => a + b, 0);
  out.push(sum / width);
  for (let i = width; i < padded.length; i++) {
    sum += padded[i] - padded[i - width];
    out.push(sum / width);
  }
  return out;
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
