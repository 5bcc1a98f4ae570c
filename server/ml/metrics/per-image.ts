// Per-image judgement of detections: which boxes are true positives (and of which labelled box), which
// labelled boxes were missed, and the confusion-matrix cells the image adds. The same rules as the
// dataset-level metrics in detect.ts, so an image's rows add up to the figures of its validation.

import { iouAt, type Xyxy } from "../detect/boxes";

export interface ScoredBox {
  box: Xyxy;
  score: number;
  cls: number;
}

export interface LabelledBox {
  box: Xyxy;
  cls: number;
}

export interface BoxMatch {
  /** Index of the labelled box it found, or null (a false positive). */
  truth: number | null;
  iou: number | null;
}

export interface TruthMatch {
  /** Index of the predicted box that found it, or null (missed at any confidence). */
  by: number | null;
  iou: number | null;
}

/** IoU at which a box counts as finding a labelled box (COCO's AP50, the studio's TP/FP/FN). */
export const MATCH_IOU = 0.5;

/**
 * COCO's evaluateImg at one IoU threshold, every class of one image: boxes in score order each take the
 * best-overlapping labelled box of their class that is still free, with IoU ≥ the threshold. Because the
 * order is by score, the boxes above any confidence keep their matches when the boxes below are dropped.
 */
export function matchImage(predicted: ScoredBox[], truth: LabelledBox[], threshold = MATCH_IOU): { boxes: BoxMatch[]; truths: TruthMatch[] } {
  const boxes: BoxMatch[] = predicted.map(() => ({ truth: null, iou: null }));
  const truths: TruthMatch[] = truth.map(() => ({ by: null, iou: null }));
  const order = predicted.map((_, i) => i).sort((a, b) => predicted[b].score - predicted[a].score);
  for (const k of order) {
    let bestIou = Math.min(threshold, 1 - 1e-10);
    let best = -1;
    truth.forEach((gt, g) => {
      if (truths[g].by !== null || gt.cls !== predicted[k].cls) return;
      const iou = iouAt(predicted[k].box, 0, gt.box, 0);
      if (iou < bestIou) return;
      bestIou = iou;
      best = g;
    });
    if (best < 0) continue;
    boxes[k] = { truth: best, iou: bestIou };
    truths[best] = { by: k, iou: bestIou };
  }
  return { boxes, truths };
}

export interface ConfusionOptions {
  /** Boxes at or below this score are ignored (Ultralytics: 0.25). */
  conf: number;
  /** Minimum IoU (exclusive) for a box to count against a labelled box (Ultralytics: 0.45). */
  iou: number;
}

export const CONFUSION_DEFAULTS: ConfusionOptions = { conf: 0.25, iou: 0.45 };

/**
 * Ultralytics' ConfusionMatrix.process_batch for one image: class-agnostic matching, unique by box then by
 * labelled box. Answers one [predicted, actual] pair per count it adds; background is `numClasses`.
 */
export function confusionPairs(predicted: ScoredBox[], truth: LabelledBox[], numClasses: number, opts: ConfusionOptions = CONFUSION_DEFAULTS): [number, number][] {
  const bg = numClasses;
  const dets = predicted.filter((d) => d.score > opts.conf);
  if (truth.length === 0) return dets.map((d) => [d.cls, bg]);
  const pairs: { g: number; d: number; iou: number }[] = [];
  for (let g = 0; g < truth.length; g++) {
    for (let d = 0; d < dets.length; d++) {
      const iou = iouAt(truth[g].box, 0, dets[d].box, 0);
      if (iou > opts.iou) pairs.push({ g, d, iou });
    }
  }
  pairs.sort((a, b) => b.iou - a.iou);
  const detUsed = new Set<number>();
  const gtUsed = new Set<number>();
  const gtToDet = new Map<number, number>();
  for (const p of pairs) {
    if (detUsed.has(p.d) || gtUsed.has(p.g)) continue;
    detUsed.add(p.d);
    gtUsed.add(p.g);
    gtToDet.set(p.g, p.d);
  }
  const out: [number, number][] = truth.map((g, gi) => {
    const d = gtToDet.get(gi);
    return [d === undefined ? bg : dets[d].cls, g.cls];
  });
  dets.forEach((d, di) => {
    if (!detUsed.has(di)) out.push([d.cls, bg]);
  });
  return out;
}
