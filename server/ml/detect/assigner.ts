// Task-aligned assigner (TOOD), with the semantics of Ultralytics' TaskAlignedAssigner. It decides which
// anchors learn which ground-truth box; it is not differentiated, so it works on plain typed arrays.

import { bboxIou, type Xyxy } from "./boxes";

export interface AssignerOptions {
  topk?: number;
  alpha?: number;
  beta?: number;
}

export interface AssignerInput {
  /** [anchors, nc] sigmoid class scores. */
  predScores: Float32Array;
  /** [anchors, 4] predicted xyxy boxes, pixels. */
  predBoxes: Float32Array;
  /** [anchors, 2] anchor centres, pixels. */
  anchorPoints: Float32Array;
  /** [gts] class ids. */
  gtLabels: Int32Array;
  /** [gts, 4] xyxy boxes, pixels. */
  gtBoxes: Float32Array;
  numClasses: number;
}

export interface Assignment {
  /** [anchors, 4] xyxy box of the assigned ground truth, pixels (zeros for background). */
  targetBoxes: Float32Array;
  /** [anchors, nc] one-hot class of the assigned ground truth scaled by the normalised alignment metric. */
  targetScores: Float32Array;
  /** 1 for anchors that learn a box. */
  fgMask: Uint8Array;
  /** [anchors] index of the assigned ground truth (0 for background). */
  targetGtIdx: Int32Array;
}

const EPS = 1e-9;

/** Ultralytics' TaskAlignedAssigner settings for YOLOv8 (the ONNX trainer's assigner graph uses them too). */
export const ASSIGNER_DEFAULTS = { topk: 10, alpha: 0.5, beta: 6.0 } as const;

export function assignTargets(input: AssignerInput, opts: AssignerOptions = {}): Assignment {
  const topk = opts.topk ?? ASSIGNER_DEFAULTS.topk;
  const alpha = opts.alpha ?? ASSIGNER_DEFAULTS.alpha;
  const beta = opts.beta ?? ASSIGNER_DEFAULTS.beta;
  const { predScores, predBoxes, anchorPoints, gtLabels, gtBoxes, numClasses: nc } = input;
  const anchors = anchorPoints.length / 2;
  const gts = gtLabels.length;
  const result: Assignment = {
    targetBoxes: new Float32Array(anchors * 4),
    targetScores: new Float32Array(anchors * nc),
    fgMask: new Uint8Array(anchors),
    targetGtIdx: new Int32Array(anchors),
  };
  if (gts === 0) return result;

  // Alignment metric score^alpha * CIoU^beta, only for anchors whose centre lies inside the gt box.
  const overlaps = new Float32Array(gts * anchors);
  const align = new Float32Array(gts * anchors);
  const maskPos = new Uint8Array(gts * anchors);
  for (let g = 0; g < gts; g++) {
    const gt = Array.from(gtBoxes.subarray(4 * g, 4 * g + 4)) as Xyxy;
    const label = gtLabels[g];
    const inside: number[] = [];
    for (let a = 0; a < anchors; a++) {
      const ax = anchorPoints[2 * a];
      const ay = anchorPoints[2 * a + 1];
      if (Math.min(ax - gt[0], ay - gt[1], gt[2] - ax, gt[3] - ay) <= EPS) continue;
      const pd = Array.from(predBoxes.subarray(4 * a, 4 * a + 4)) as Xyxy;
      const iou = Math.max(0, bboxIou(gt, pd, "ciou"));
      overlaps[g * anchors + a] = iou;
      align[g * anchors + a] = predScores[a * nc + label] ** alpha * iou ** beta;
      inside.push(a);
    }
    // The top-k anchors by metric among those inside the box (ties: lower anchor index first).
    inside.sort((p, q) => align[g * anchors + q] - align[g * anchors + p] || p - q);
    for (const a of inside.slice(0, topk)) maskPos[g * anchors + a] = 1;
  }

  // An anchor chosen by several gts keeps only the gt it overlaps most.
  for (let a = 0; a < anchors; a++) {
    let count = 0;
    for (let g = 0; g < gts; g++) count += maskPos[g * anchors + a];
    if (count > 1) {
      let best = 0;
      for (let g = 1; g < gts; g++) if (overlaps[g * anchors + a] > overlaps[best * anchors + a]) best = g;
      for (let g = 0; g < gts; g++) maskPos[g * anchors + a] = g === best ? 1 : 0;
    }
  }

  // Normalise each gt's metric so its best anchor gets the gt's best IoU as target score.
  const posAlign = new Float32Array(gts);
  const posOverlap = new Float32Array(gts);
  for (let g = 0; g < gts; g++) {
    for (let a = 0; a < anchors; a++) {
      if (!maskPos[g * anchors + a]) continue;
      posAlign[g] = Math.max(posAlign[g], align[g * anchors + a]);
      posOverlap[g] = Math.max(posOverlap[g], overlaps[g * anchors + a]);
    }
  }
  for (let a = 0; a < anchors; a++) {
    let assigned = -1;
    for (let g = 0; g < gts && assigned < 0; g++) if (maskPos[g * anchors + a]) assigned = g;
    if (assigned < 0) continue;
    const norm = (align[assigned * anchors + a] * posOverlap[assigned]) / (posAlign[assigned] + EPS);
    result.fgMask[a] = 1;
    result.targetGtIdx[a] = assigned;
    result.targetBoxes.set(gtBoxes.subarray(4 * assigned, 4 * assigned + 4), 4 * a);
    result.targetScores[a * nc + gtLabels[assigned]] = norm;
  }
  return result;
}
