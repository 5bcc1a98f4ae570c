// YOLOv8's detection loss as dense masked math in the training graph, and its gradient with respect
// to the raw head output, written out (the ops TF.js's tape would differentiate, with its choices at
// ties: max → the first argument on ≥, min → on ≤, relu' = [x > 0]). The ground truth comes in as
// graph inputs and the assigner runs in the graph (assign-graph.ts) on the predictions; the sums
// equal detect/loss.ts's: CIoU box loss and DFL over the assigned anchors weighted by their target
// scores, BCE over every anchor, each divided by the normaliser and multiplied by its gain.
import { DEFAULT_GAINS, type LossGains } from "../detect/loss";
import { makeAnchors, REG_MAX } from "../detect/dfl";
import { emitAssigner, type GroundTruthInputs } from "./assign-graph";
import type { TrainGraph, Value } from "./builder";

export interface DetectLossSpec {
  kind: "detect";
  numClasses: number;
  imgsz: number;
  regMax?: number;
  strides?: number[];
  gains?: LossGains;
}

const EPS = 1e-7;

export function emitDetectLoss(g: TrainGraph, spec: DetectLossSpec, raw: Value): { inputs: GroundTruthInputs; outputs: Record<string, string>; dRaw: string } {
  const nc = spec.numClasses;
  const R = spec.regMax ?? REG_MAX;
  const gains = spec.gains ?? DEFAULT_GAINS;
  const [n, anchors] = raw.shape;
  const grid = makeAnchors(spec.imgsz, spec.imgsz, spec.strides);
  // Padded to the most boxes an image of the batch has: a symbolic dimension, one session for every batch.
  const inputs: GroundTruthInputs = {
    boxes: g.input("det:gt_boxes", [n, "gts", 4]),
    classes: g.input("det:gt_classes", [n, "gts", nc]),
  };
  const sumAll = (x: string) => g.op("ReduceSum", [x], { keepdims: 0 });
  const cast = (x: string) => g.op("Cast", [x], { to: 1 });
  const square = (x: string) => g.mul(x, x);

  const dist = g.reshape(g.slice(raw.name, [0], [4 * R], [2]), [n, anchors, 4, R]);
  const logits = g.slice(raw.name, [4 * R], [4 * R + nc], [2]);
  const probs = g.op("Softmax", [dist], { axis: 3 });
  const bins = g.f32Tensor(Array.from({ length: R }, (_, i) => i), [R]);
  const expected = g.reduceSum(g.mul(probs, bins), [3]); // [n, A, 4]: l, t, r, b in grid units
  const [l, t, r, b] = g.ops("Split", [expected, g.i64([1, 1, 1, 1])], 4, { axis: 2 });
  const ax = g.f32Tensor(Array.from({ length: anchors }, (_, a) => grid.points[2 * a]), [1, anchors, 1]);
  const ay = g.f32Tensor(Array.from({ length: anchors }, (_, a) => grid.points[2 * a + 1]), [1, anchors, 1]);
  const [x1, y1, x2, y2] = [g.sub(ax, l), g.sub(ay, t), g.add(ax, r), g.add(ay, b)];
  const predictedPx = g.mul(g.op("Concat", [x1, y1, x2, y2], { axis: 2 }), g.f32Tensor(grid.strides, [1, anchors, 1]));
  const sigmoid = g.op("Sigmoid", [logits]);
  const targets = emitAssigner(g, { grid, numClasses: nc, regMax: R }, sigmoid, predictedPx, inputs);
  const invNorm = g.op("Reciprocal", [targets.normaliser]);
  const [bx1, by1, bx2, by2] = g.ops("Split", [targets.boxes, g.i64([1, 1, 1, 1])], 4, { axis: 2 });
  const weight = targets.weights; // [n, A, 1]

  // ---- CIoU (detect/loss.ts's ciouTensor, op for op)
  const eps = g.f32(EPS);
  const w1 = g.sub(x2, x1);
  const h1 = g.add(g.sub(y2, y1), eps);
  const w2 = g.sub(bx2, bx1);
  const h2 = g.add(g.sub(by2, by1), eps);
  const iwPre = g.sub(g.op("Min", [x2, bx2]), g.op("Max", [x1, bx1]));
  const ihPre = g.sub(g.op("Min", [y2, by2]), g.op("Max", [y1, by1]));
  const iw = g.op("Relu", [iwPre]);
  const ih = g.op("Relu", [ihPre]);
  const inter = g.mul(iw, ih);
  const union = g.add(g.sub(g.add(g.mul(w1, h1), g.mul(w2, h2)), inter), eps);
  const iou = g.div(inter, union);
  const cw = g.sub(g.op("Max", [x2, bx2]), g.op("Min", [x1, bx1]));
  const ch = g.sub(g.op("Max", [y2, by2]), g.op("Min", [y1, by1]));
  const c2 = g.add(g.add(square(cw), square(ch)), eps);
  const sx = g.sub(g.sub(g.add(bx1, bx2), x1), x2);
  const sy = g.sub(g.sub(g.add(by1, by2), y1), y2);
  const rho2 = g.scale(g.add(square(sx), square(sy)), 1 / 4);
  const ratio1 = g.div(w1, h1);
  const angle = g.sub(g.op("Atan", [g.div(w2, h2)]), g.op("Atan", [ratio1]));
  const k = 4 / Math.PI ** 2;
  const v = g.scale(square(angle), k);
  const alpha = g.div(v, g.add(g.sub(v, iou), g.f32(1 + EPS)));
  const ciou = g.sub(iou, g.add(g.div(rho2, c2), g.mul(v, alpha)));
  const boxLoss = g.scale(g.mul(sumAll(g.mul(g.sub(g.f32(1), ciou), weight)), invNorm), gains.box);

  // ---- BCE with logits, every anchor: max(x, 0) − x·z + log(1 + e^−|x|)
  const bce = g.add(g.sub(g.op("Relu", [logits]), g.mul(logits, targets.scores)), g.op("Softplus", [g.op("Neg", [g.op("Abs", [logits])])]));
  const clsLoss = g.scale(g.mul(sumAll(bce), invNorm), gains.cls);

  // ---- DFL: −Σ bins·log softmax, mean over the 4 sides, weighted
  const logProbs = g.op("LogSoftmax", [dist], { axis: 3 });
  const perSide = g.op("Neg", [g.reduceSum(g.mul(logProbs, targets.bins), [3])]); // [n, A, 4]
  const dflLoss = g.scale(g.mul(sumAll(g.mul(g.op("ReduceMean", [perSide], { axes: [2], keepdims: 1 }), weight)), invNorm), gains.dfl);

  const total = g.add(g.add(boxLoss, clsLoss), dflLoss);
  const outputs = {
    loss: g.output("loss", total, []),
    box_loss: g.output("box_loss", boxLoss, []),
    cls_loss: g.output("cls_loss", clsLoss, []),
    dfl_loss: g.output("dfl_loss", dflLoss, []),
  };

  // ---- d loss / d raw
  g.scope = "loss.bwd";
  const gB = g.mul(weight, g.scale(invNorm, -gains.box)); // ∂L/∂ciou
  const union2 = square(union);
  const gInter = g.div(g.mul(gB, g.add(union, inter)), union2);
  const gArea = g.op("Neg", [g.div(g.mul(gB, inter), union2)]); // on ∂(w1·h1)
  const gRho = g.op("Neg", [g.div(gB, c2)]);
  const gC2 = g.div(g.mul(gB, rho2), square(c2));
  const gV = g.op("Neg", [g.mul(gB, alpha)]); // alpha is not differentiated
  const mx = cast(g.op("Greater", [iwPre, g.f32(0)]));
  const my = cast(g.op("Greater", [ihPre, g.f32(0)]));
  const ihx = g.mul(ih, mx);
  const iwy = g.mul(iw, my);
  // ∂v/∂w1 and ∂v/∂h1 through atan(w1/h1)
  const q = g.div(g.scale(angle, 2 * k), g.add(g.f32(1), square(ratio1)));
  const vW = g.op("Neg", [g.div(q, h1)]);
  const vH = g.div(g.mul(q, w1), square(h1));
  const twoCw = g.scale(cw, 2);
  const twoCh = g.scale(ch, 2);
  const rhoX = g.mul(gRho, g.scale(sx, -0.5));
  const rhoY = g.mul(gRho, g.scale(sy, -0.5));
  const when = (op: string, a: string, bb: string) => cast(g.op(op, [a, bb]));
  const dx2 = g.sum([g.mul(gInter, g.mul(ihx, when("LessOrEqual", x2, bx2))), g.mul(gArea, h1), rhoX, g.mul(gC2, g.mul(twoCw, when("GreaterOrEqual", x2, bx2))), g.mul(gV, vW)]);
  const dx1 = g.sum([g.op("Neg", [g.mul(gInter, g.mul(ihx, when("GreaterOrEqual", x1, bx1)))]), g.op("Neg", [g.mul(gArea, h1)]), rhoX, g.op("Neg", [g.mul(gC2, g.mul(twoCw, when("LessOrEqual", x1, bx1)))]), g.op("Neg", [g.mul(gV, vW)])]);
  const dy2 = g.sum([g.mul(gInter, g.mul(iwy, when("LessOrEqual", y2, by2))), g.mul(gArea, w1), rhoY, g.mul(gC2, g.mul(twoCh, when("GreaterOrEqual", y2, by2))), g.mul(gV, vH)]);
  const dy1 = g.sum([g.op("Neg", [g.mul(gInter, g.mul(iwy, when("GreaterOrEqual", y1, by1)))]), g.op("Neg", [g.mul(gArea, w1)]), rhoY, g.op("Neg", [g.mul(gC2, g.mul(twoCh, when("LessOrEqual", y1, by1)))]), g.op("Neg", [g.mul(gV, vH)])]);
  // x1 = ax − l, y1 = ay − t, x2 = ax + r, y2 = ay + b
  const dExpected = g.op("Concat", [g.op("Neg", [dx1]), g.op("Neg", [dy1]), dx2, dy2], { axis: 2 });
  // ∂E/∂z_i = p_i·(i − E) per side
  const dDistBox = g.mul(g.mul(probs, g.sub(bins, g.op("Unsqueeze", [expected, g.i64([3])]))), g.op("Unsqueeze", [dExpected, g.i64([3])]));
  // ∂(−Σ w_i log p_i)/∂z_i = p_i·Σw − w_i, times weight·gain/(4·normaliser)
  const binSum = g.reduceSum(targets.bins, [3], true);
  const dflScale = g.reshape(g.mul(weight, g.scale(invNorm, gains.dfl / 4)), [n, anchors, 1, 1]);
  const dDistDfl = g.mul(g.sub(g.mul(probs, binSum), targets.bins), dflScale);
  const dDist = g.reshape(g.add(dDistBox, dDistDfl), [n, anchors, 4 * R]);
  const dLogits = g.mul(g.sub(sigmoid, targets.scores), g.scale(invNorm, gains.cls));
  return { inputs, outputs, dRaw: g.op("Concat", [dDist, dLogits], { axis: 2 }) };
}
