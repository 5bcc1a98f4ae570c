import { iouAt, type Xyxy } from "./boxes";

export interface Detection {
  /** Corners in input pixels. */
  box: Xyxy;
  score: number;
  cls: number;
}

export interface NmsOptions {
  /** Keep candidates whose best class score is above this. Ultralytics' predict default is 0.25, val uses 0.001. */
  conf?: number;
  /** Suppress a box when its IoU with a kept, higher-scoring box of the same class exceeds this. */
  iou?: number;
  maxDet?: number;
  /** Suppress across classes. */
  agnostic?: boolean;
  /** Cap on candidates entering NMS (highest scores first), as Ultralytics' max_nms. */
  maxCandidates?: number;
}

/**
 * Non-maximum suppression on a decoded YOLOv8 output [batch, 4 + nc, anchors] (xywh pixels, class scores):
 * the layout of both our TF.js decode and an ONNX export, so one implementation serves both.
 * Each anchor contributes its best class only (Ultralytics' single-label default).
 */
export function nonMaxSuppression(
  output: Float32Array,
  dims: { batch: number; numClasses: number; anchors: number },
  opts: NmsOptions = {},
): Detection[][] {
  const { batch, numClasses: nc, anchors } = dims;
  const conf = opts.conf ?? 0.25;
  const iouThreshold = opts.iou ?? 0.7;
  const maxDet = opts.maxDet ?? 300;
  const maxCandidates = opts.maxCandidates ?? 30000;
  if (output.length !== batch * (4 + nc) * anchors) {
    throw new Error(`detection output has ${output.length} values, expected ${batch}x${4 + nc}x${anchors}`);
  }
  const results: Detection[][] = [];
  for (let b = 0; b < batch; b++) {
    const base = b * (4 + nc) * anchors;
    const candidates: { anchor: number; score: number; cls: number }[] = [];
    for (let a = 0; a < anchors; a++) {
      let best = -Infinity;
      let cls = 0;
      for (let c = 0; c < nc; c++) {
        const s = output[base + (4 + c) * anchors + a];
        if (s > best) {
          best = s;
          cls = c;
        }
      }
      if (best > conf) candidates.push({ anchor: a, score: best, cls });
    }
    candidates.sort((p, q) => q.score - p.score);
    if (candidates.length > maxCandidates) candidates.length = maxCandidates;

    const kept: Detection[] = [];
    const keptBoxes = new Float32Array(Math.min(candidates.length, maxDet) * 4);
    for (const cand of candidates) {
      if (kept.length >= maxDet) break;
      const a = cand.anchor;
      const cx = output[base + a];
      const cy = output[base + anchors + a];
      const w = output[base + 2 * anchors + a];
      const h = output[base + 3 * anchors + a];
      const box: Xyxy = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
      let suppressed = false;
      for (let k = 0; k < kept.length && !suppressed; k++) {
        if (!opts.agnostic && kept[k].cls !== cand.cls) continue;
        suppressed = iouAt(box, 0, keptBoxes, 4 * k) > iouThreshold;
      }
      if (suppressed) continue;
      keptBoxes.set(box, 4 * kept.length);
      kept.push({ box, score: cand.score, cls: cand.cls });
    }
    results.push(kept);
  }
  return results;
}
