// The training targets of YOLOv8's detection loss, per anchor and dense (background rows weigh 0):
// what the task-aligned assigner makes of the current predictions, on plain typed arrays. Both
// engines use it: TF.js's loss (loss.ts) and ONNX Runtime's training graphs (server/ml/ort/), which
// take these arrays as inputs padded to the anchor count.
import type { Box } from "../augment/geometry";
import { assignTargets, type AssignerOptions } from "./assigner";
import { dflExpectation, REG_MAX, type AnchorGrid } from "./dfl";

export interface DetectionTargets {
  /** [batch, anchors, nc] assigned class scores (the normalised alignment metric). */
  targetScores: Float32Array;
  /** [batch, anchors] Σ of each anchor's target scores: its weight in the box and DFL losses (0: background). */
  weights: Float32Array;
  /** [batch, anchors, 4] target xyxy in grid units of the anchor's level (a unit box at background anchors). */
  targetBoxes: Float32Array;
  /** [batch, anchors, 4, regMax] DFL target: each side's distance split between its two neighbouring bins. */
  binWeights: Float32Array;
  positives: number;
  /** max(Σ target scores, 1): every part of the loss is divided by it. */
  normaliser: number;
}

export interface TargetOptions {
  numClasses: number;
  imgsz: number;
  grid: AnchorGrid;
  regMax?: number;
  assigner?: AssignerOptions;
}

/**
 * Targets from the predictions: `scores` [batch, anchors, nc] sigmoid class scores and `boxesPx`
 * [batch, anchors, 4] predicted xyxy in input pixels; ground truth per image in normalised centre xywh.
 */
export function detectionTargets(scores: Float32Array, boxesPx: Float32Array, gtBoxes: Box[][], opts: TargetOptions): DetectionTargets {
  const { numClasses: nc, imgsz, grid } = opts;
  const regMax = opts.regMax ?? REG_MAX;
  const batch = gtBoxes.length;
  const anchors = grid.count;
  const anchorPx = new Float32Array(anchors * 2);
  for (let a = 0; a < anchors; a++) {
    anchorPx[2 * a] = grid.points[2 * a] * grid.strides[a];
    anchorPx[2 * a + 1] = grid.points[2 * a + 1] * grid.strides[a];
  }
  const targetScores = new Float32Array(batch * anchors * nc);
  const weights = new Float32Array(batch * anchors);
  const targetBoxes = new Float32Array(batch * anchors * 4);
  const binWeights = new Float32Array(batch * anchors * 4 * regMax);
  let positives = 0;
  for (let b = 0; b < batch; b++) {
    const boxes = gtBoxes[b];
    const gtXyxy = new Float32Array(boxes.length * 4);
    boxes.forEach((g, i) => gtXyxy.set([(g.x - g.w / 2) * imgsz, (g.y - g.h / 2) * imgsz, (g.x + g.w / 2) * imgsz, (g.y + g.h / 2) * imgsz], 4 * i));
    const assigned = assignTargets(
      {
        predScores: scores.subarray(b * anchors * nc, (b + 1) * anchors * nc),
        predBoxes: boxesPx.subarray(b * anchors * 4, (b + 1) * anchors * 4),
        anchorPoints: anchorPx,
        gtLabels: Int32Array.from(boxes, (g) => g.cls),
        gtBoxes: gtXyxy,
        numClasses: nc,
      },
      opts.assigner,
    );
    targetScores.set(assigned.targetScores, b * anchors * nc);
    for (let a = 0; a < anchors; a++) {
      const row = b * anchors + a;
      const ax = grid.points[2 * a];
      const ay = grid.points[2 * a + 1];
      if (!assigned.fgMask[a]) {
        // A unit box at the anchor keeps the (zero-weighted) CIoU finite (written in place: most anchors are background).
        targetBoxes[4 * row] = ax - 0.5;
        targetBoxes[4 * row + 1] = ay - 0.5;
        targetBoxes[4 * row + 2] = ax + 0.5;
        targetBoxes[4 * row + 3] = ay + 0.5;
        continue;
      }
      positives++;
      let weight = 0;
      for (let c = 0; c < nc; c++) weight += assigned.targetScores[a * nc + c];
      weights[row] = weight;
      const s = grid.strides[a];
      const [x1, y1, x2, y2] = Array.from(assigned.targetBoxes.subarray(4 * a, 4 * a + 4), (v) => v / s);
      targetBoxes.set([x1, y1, x2, y2], 4 * row);
      [ax - x1, ay - y1, x2 - ax, y2 - ay].forEach((d, side) => {
        const t = Math.min(Math.max(d, 0), regMax - 1 - 0.01);
        const left = Math.floor(t);
        const base = (row * 4 + side) * regMax;
        binWeights[base + left] = left + 1 - t;
        binWeights[base + left + 1] = t - left;
      });
    }
  }
  let scoreSum = 0;
  for (const v of targetScores) scoreSum += v;
  return { targetScores, weights, targetBoxes, binWeights, positives, normaliser: Math.max(scoreSum, 1) };
}

/**
 * What the assigner reads from raw head outputs [batch, anchors, 4·regMax + nc]: sigmoid class scores
 * [batch, anchors, nc] and predicted xyxy boxes in pixels [batch, anchors, 4].
 */
export function assignerInputs(raw: Float32Array, opts: { batch: number; numClasses: number; grid: AnchorGrid; regMax?: number }): { scores: Float32Array; boxesPx: Float32Array } {
  const { batch, numClasses: nc, grid } = opts;
  const regMax = opts.regMax ?? REG_MAX;
  const channels = 4 * regMax + nc;
  const anchors = grid.count;
  const scores = new Float32Array(batch * anchors * nc);
  const boxesPx = new Float32Array(batch * anchors * 4);
  for (let row = 0; row < batch * anchors; row++) {
    const a = row % anchors;
    const base = row * channels;
    const s = grid.strides[a];
    const px = grid.points[2 * a];
    const py = grid.points[2 * a + 1];
    boxesPx[4 * row] = Math.fround(px - dflExpectation(raw, base, regMax)) * s;
    boxesPx[4 * row + 1] = Math.fround(py - dflExpectation(raw, base + regMax, regMax)) * s;
    boxesPx[4 * row + 2] = Math.fround(px + dflExpectation(raw, base + 2 * regMax, regMax)) * s;
    boxesPx[4 * row + 3] = Math.fround(py + dflExpectation(raw, base + 3 * regMax, regMax)) * s;
    for (let c = 0; c < nc; c++) scores[row * nc + c] = 1 / (1 + Math.exp(-raw[base + 4 * regMax + c]));
  }
  return { scores, boxesPx };
}
