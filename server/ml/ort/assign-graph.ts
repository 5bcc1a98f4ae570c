// The task-aligned assigner (detect/assigner.ts) and the dense targets made of it (detect/targets.ts)
// as ONNX ops inside the training graph, so detection is ONE session.run: no forward handing its
// tensors over to a second graph, no JavaScript pass between them. The same decisions, per image
// on [gts, anchors] tensors: anchors whose centre lies inside a box, CIoU and the alignment metric
// score^α·IoU^β, the top-k anchors per box (TopK: ties to the lower anchor index, as the sort there),
// an anchor chosen by several boxes kept by the one it overlaps most (ArgMax: the first), scores
// normalised per box. Computed in float32 (detect/targets.ts rounds its float64 to float32 on store).
// Ground truth comes in padded to `gts` boxes per image (a symbolic dimension; padding rows are zero).
import { ASSIGNER_DEFAULTS } from "../detect/assigner";
import type { AnchorGrid } from "../detect/dfl";
import type { TrainGraph } from "./builder";

export interface GroundTruthInputs {
  /** [n, gts, 4] xyxy in input pixels (zeros where padded). */
  boxes: string;
  /** [n, gts, nc] one-hot class (zeros where padded). */
  classes: string;
}

export interface AssignedTargets {
  /** [n, A, nc] */
  scores: string;
  /** [n, A, 1] Σ of each anchor's target scores (0: background). */
  weights: string;
  /** [n, A, 4] target xyxy in grid units (a unit box at background anchors). */
  boxes: string;
  /** [n, A, 4, R] DFL bin weights. */
  bins: string;
  /** max(Σ target scores, 1), a scalar. */
  normaliser: string;
}

/** Ultralytics' bbox_iou(CIoU) of every gt [n, gts, 1] with every prediction [n, 1, A] (detect/boxes.ts, op for op). */
function ciou(g: TrainGraph, [gx1, gy1, gx2, gy2]: string[], [px1, py1, px2, py2]: string[]): string {
  const eps = g.f32(1e-7);
  const max = (a: string, b: string) => g.op("Max", [a, b]);
  const min = (a: string, b: string) => g.op("Min", [a, b]);
  const square = (x: string) => g.mul(x, x);
  const w1 = g.sub(gx2, gx1);
  const h1 = g.add(g.sub(gy2, gy1), eps);
  const w2 = g.sub(px2, px1);
  const h2 = g.add(g.sub(py2, py1), eps);
  const inter = g.mul(g.op("Relu", [g.sub(min(gx2, px2), max(gx1, px1))]), g.op("Relu", [g.sub(min(gy2, py2), max(gy1, py1))]));
  const union = g.add(g.sub(g.add(g.mul(w1, h1), g.mul(w2, h2)), inter), eps);
  const iou = g.div(inter, union);
  const cw = g.sub(max(gx2, px2), min(gx1, px1));
  const ch = g.sub(max(gy2, py2), min(gy1, py1));
  const c2 = g.add(g.add(square(cw), square(ch)), eps);
  const rho2 = g.scale(g.add(square(g.sub(g.sub(g.add(px1, px2), gx1), gx2)), square(g.sub(g.sub(g.add(py1, py2), gy1), gy2))), 1 / 4);
  const v = g.scale(square(g.sub(g.op("Atan", [g.div(w2, h2)]), g.op("Atan", [g.div(w1, h1)]))), 4 / Math.PI ** 2);
  const alpha = g.div(v, g.add(g.sub(v, iou), g.f32(1 + 1e-7)));
  return g.sub(iou, g.add(g.div(rho2, c2), g.mul(v, alpha)));
}

/**
 * The targets of one batch from the predictions: `scores` [n, A, nc] sigmoid class scores, `boxesPx`
 * [n, A, 4] predicted xyxy in pixels (neither is differentiated), and the padded ground truth.
 */
export function emitAssigner(g: TrainGraph, opts: { grid: AnchorGrid; numClasses: number; regMax: number }, scores: string, boxesPx: string, gt: GroundTruthInputs): AssignedTargets {
  const { grid, regMax: R } = opts;
  const anchors = grid.count;
  const { topk, alpha, beta } = ASSIGNER_DEFAULTS;
  const k = Math.min(topk, anchors);
  const EPS = g.f32(1e-9);
  const cast = (x: string) => g.op("Cast", [x], { to: 1 });
  const sides = (x: string, axis: number) => g.ops("Split", [x, g.i64([1, 1, 1, 1])], 4, { axis });

  // [n, gts, 1] per gt coordinate, [n, 1, A] per predicted one, [1, 1, A] anchor centres, in pixels.
  const gtSides = sides(gt.boxes, 2);
  const predSides = sides(g.transpose(boxesPx, [0, 2, 1]), 1);
  const ax = g.f32Tensor(Array.from({ length: anchors }, (_, a) => grid.points[2 * a] * grid.strides[a]), [1, 1, anchors]);
  const ay = g.f32Tensor(Array.from({ length: anchors }, (_, a) => grid.points[2 * a + 1] * grid.strides[a]), [1, 1, anchors]);
  const [gx1, gy1, gx2, gy2] = gtSides;
  const nearest = g.op("Min", [g.sub(ax, gx1), g.sub(ay, gy1), g.sub(gx2, ax), g.sub(gy2, ay)]);
  const inside = cast(g.op("Greater", [nearest, EPS])); // [n, gts, A]; padding rows (zero boxes) hold no anchor

  const overlaps = g.mul(g.op("Relu", [ciou(g, gtSides, predSides)]), inside);
  // Each gt's class score at every anchor: one-hot [n, gts, nc] · scoresᵀ [n, nc, A] (one non-zero term: exact).
  const classScore = g.op("MatMul", [gt.classes, g.transpose(scores, [0, 2, 1])]);
  const powered = (x: string, p: number) => (p === 0.5 ? g.op("Sqrt", [x]) : g.op("Pow", [x, g.f32(p)]));
  const align = g.mul(g.mul(powered(classScore, alpha), powered(overlaps, beta)), inside);

  // Top-k anchors per gt among those inside it: outside anchors rank below every inside one (−1 < 0 ≤ metric).
  const ranked = g.op("Where", [g.op("Greater", [inside, g.f32(0)]), align, g.f32(-1)]);
  const [topValues, topIndices] = g.ops("TopK", [ranked, g.i64([k])], 2, { axis: 2, largest: 1, sorted: 1 });
  const picked = cast(g.op("GreaterOrEqual", [topValues, g.f32(0)]));
  const chosen = g.op("ScatterElements", [g.op("ConstantOfShape", [g.op("Shape", [ranked])]), topIndices, picked], { axis: 2 });

  // An anchor chosen by several gts keeps the one it overlaps most.
  const count = g.reduceSum(chosen, [1], true); // [n, 1, A]
  const best = g.op("ArgMax", [overlaps], { axis: 1, keepdims: 1 }); // [n, 1, A]
  const scalar = (x: string) => g.reshape(x, []);
  const gts = scalar(g.op("Gather", [g.op("Shape", [gt.boxes]), g.i64([1])], { axis: 0 }));
  const gtIndex = g.reshape(g.op("Range", [scalar(g.i64([0])), gts, scalar(g.i64([1]))]), [1, -1, 1]);
  const onlyBest = cast(g.op("Equal", [gtIndex, best]));
  const mask = g.op("Where", [g.op("Greater", [count, g.f32(1)]), onlyBest, chosen]); // [n, gts, A]

  // Normalised metric: each gt's best anchor gets the gt's best IoU.
  const posAlign = g.op("ReduceMax", [g.mul(align, mask)], { axes: [2], keepdims: 1 });
  const posOverlap = g.op("ReduceMax", [g.mul(overlaps, mask)], { axes: [2], keepdims: 1 });
  const norm = g.mul(g.div(g.mul(align, posOverlap), g.add(posAlign, EPS)), mask); // [n, gts, A]
  const normT = g.transpose(norm, [0, 2, 1]); // [n, A, gts]: at most one non-zero per row
  const maskT = g.transpose(mask, [0, 2, 1]);
  const targetScores = g.op("MatMul", [normT, gt.classes]);
  const weights = g.reduceSum(normT, [2], true); // [n, A, 1]
  const foreground = g.op("ReduceMax", [maskT], { axes: [2], keepdims: 1 }); // [n, A, 1]

  // Boxes in grid units of the anchor's level; background anchors get a unit box (finite, zero-weighted CIoU).
  const strides = g.f32Tensor(grid.strides, [1, anchors, 1]);
  const gx = g.f32Tensor(Array.from({ length: anchors }, (_, a) => grid.points[2 * a]), [1, anchors, 1]);
  const gy = g.f32Tensor(Array.from({ length: anchors }, (_, a) => grid.points[2 * a + 1]), [1, anchors, 1]);
  const assigned = g.div(g.op("MatMul", [maskT, gt.boxes]), strides);
  const unitBoxes = g.add(g.op("Concat", [gx, gy, gx, gy], { axis: 2 }), g.f32Tensor([-0.5, -0.5, 0.5, 0.5], [1, 1, 4]));
  const isForeground = g.op("Greater", [foreground, g.f32(0)]);
  const boxes = g.op("Where", [isForeground, assigned, unitBoxes]);

  // DFL targets: each side's distance t ∈ [0, R − 1.01] split between bins ⌊t⌋ and ⌊t⌋ + 1: max(0, 1 − |i − t|).
  const [bx1, by1, bx2, by2] = sides(assigned, 2);
  const distances = g.op("Concat", [g.sub(gx, bx1), g.sub(gy, by1), g.sub(bx2, gx), g.sub(by2, gy)], { axis: 2 });
  const t = g.op("Unsqueeze", [g.op("Clip", [distances, g.f32(0), g.f32(R - 1 - 0.01)]), g.i64([3])]);
  const binIndex = g.f32Tensor(Array.from({ length: R }, (_, i) => i), [1, 1, 1, R]);
  const tent = g.op("Relu", [g.sub(g.f32(1), g.op("Abs", [g.sub(binIndex, t)]))]);
  const bins = g.mul(tent, g.op("Unsqueeze", [foreground, g.i64([3])]));

  const normaliser = g.op("Max", [g.op("ReduceSum", [targetScores], { keepdims: 0 }), g.f32(1)]);
  return { scores: targetScores, weights, boxes, bins, normaliser };
}
