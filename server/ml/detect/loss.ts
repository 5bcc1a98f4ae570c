// YOLOv8 detection loss (Ultralytics v8DetectionLoss): task-aligned assignment, CIoU box loss and
// distribution focal loss on the assigned anchors, BCE classification on all anchors, each normalised by
// the sum of target scores and weighted by the gains box 7.5, cls 0.5, dfl 1.5.

import * as tf from "@tensorflow/tfjs";
import type { Box } from "../augment/geometry";
import type { AssignerOptions } from "./assigner";
import { REG_MAX, type AnchorGrid } from "./dfl";
import { detectionTargets } from "./targets";

export interface LossGains {
  box: number;
  cls: number;
  dfl: number;
}

export const DEFAULT_GAINS: LossGains = { box: 7.5, cls: 0.5, dfl: 1.5 };

export interface DetectionLossParts {
  box_loss: tf.Scalar;
  cls_loss: tf.Scalar;
  dfl_loss: tf.Scalar;
  /** box_loss + cls_loss + dfl_loss (gains applied). */
  total: tf.Scalar;
}

export interface DetectionLossOptions {
  numClasses: number;
  imgsz: number;
  grid: AnchorGrid;
  regMax?: number;
  gains?: LossGains;
  assigner?: AssignerOptions;
}

/** Softmax expectation over the regMax bins of each side: [..., 4*regMax] -> [..., 4] distances. */
export function dflDistances(dist: tf.Tensor, regMax = REG_MAX): tf.Tensor {
  const shape = dist.shape.slice(0, -1);
  const probs = tf.softmax(dist.reshape([...shape, 4, regMax]));
  return probs.mul(tf.range(0, regMax, 1, "float32")).sum(-1);
}

/** Identity whose gradient is zero (TF.js has no stop_gradient op). */
const stopGradient = tf.customGrad((...inputs) => ({
  value: (inputs[0] as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

/** CIoU of paired xyxy boxes [N, 4] (Ultralytics bbox_iou; alpha is not differentiated). */
export function ciouTensor(a: tf.Tensor2D, b: tf.Tensor2D, eps = 1e-7): tf.Tensor1D {
  const [ax1, ay1, ax2, ay2] = tf.unstack(a, 1);
  const [bx1, by1, bx2, by2] = tf.unstack(b, 1);
  const w1 = ax2.sub(ax1);
  const h1 = ay2.sub(ay1).add(eps);
  const w2 = bx2.sub(bx1);
  const h2 = by2.sub(by1).add(eps);
  const inter = tf.relu(tf.minimum(ax2, bx2).sub(tf.maximum(ax1, bx1))).mul(tf.relu(tf.minimum(ay2, by2).sub(tf.maximum(ay1, by1))));
  const union = w1.mul(h1).add(w2.mul(h2)).sub(inter).add(eps);
  const iou = inter.div(union);
  const cw = tf.maximum(ax2, bx2).sub(tf.minimum(ax1, bx1));
  const ch = tf.maximum(ay2, by2).sub(tf.minimum(ay1, by1));
  const c2 = cw.square().add(ch.square()).add(eps);
  const rho2 = bx1.add(bx2).sub(ax1).sub(ax2).square().add(by1.add(by2).sub(ay1).sub(ay2).square()).div(4);
  const v = tf.atan(w2.div(h2)).sub(tf.atan(w1.div(h1))).square().mul(4 / Math.PI ** 2);
  const alpha = stopGradient(v.div(v.sub(iou).add(1 + eps)));
  return iou.sub(rho2.div(c2).add(v.mul(alpha))) as tf.Tensor1D;
}

/**
 * Loss of raw head outputs [batch, anchors, 4*regMax + nc] against ground-truth boxes per image
 * (normalised centre xywh). Differentiable with respect to `raw`.
 */
export function detectionLoss(raw: tf.Tensor, gtBoxes: Box[][], opts: DetectionLossOptions): DetectionLossParts {
  const nc = opts.numClasses;
  const regMax = opts.regMax ?? REG_MAX;
  const gains = opts.gains ?? DEFAULT_GAINS;
  const { grid, imgsz } = opts;
  const [batch, anchors, channels] = raw.shape;
  if (channels !== 4 * regMax + nc || anchors !== grid.count || batch !== gtBoxes.length) {
    throw new Error(
      `detection output [${raw.shape}] does not match batch ${gtBoxes.length}, ${grid.count} anchors, ${4 * regMax + nc} channels`,
    );
  }
  return tf.tidy(() => {
    const dist = raw.slice([0, 0, 0], [batch, anchors, 4 * regMax]);
    const logits = raw.slice([0, 0, 4 * regMax], [batch, anchors, nc]);
    const anchorTensor = tf.tensor2d(grid.points, [anchors, 2]);
    const strideTensor = tf.tensor2d(grid.strides, [anchors, 1]);
    // Predicted boxes in grid units of each level: anchor -/+ distances.
    const ltrb = dflDistances(dist, regMax);
    const predBoxes = tf.concat([anchorTensor.sub(ltrb.slice([0, 0, 0], [batch, anchors, 2])), anchorTensor.add(ltrb.slice([0, 0, 2], [batch, anchors, 2]))], -1);

    const scoresData = tf.sigmoid(logits).dataSync() as Float32Array;
    const boxesPx = predBoxes.mul(strideTensor).dataSync() as Float32Array;
    // Dense per-anchor targets (background rows carry weight 0): no gather, whose gradient needs a
    // kernel (UnsortedSegmentSum) the WASM backend lacks.
    const { targetScores, weights, targetBoxes, binWeights, positives, normaliser } = detectionTargets(scoresData, boxesPx, gtBoxes, {
      numClasses: nc,
      imgsz,
      grid,
      regMax,
      assigner: opts.assigner,
    });

    const target = tf.tensor3d(targetScores, [batch, anchors, nc]);
    // Binary cross-entropy with logits, summed: max(x,0) - x*z + log(1 + exp(-|x|)).
    const bce = tf.relu(logits).sub(logits.mul(target)).add(tf.log1p(tf.exp(tf.abs(logits).neg())));
    const clsLoss = bce.sum().div(normaliser).mul(gains.cls) as tf.Scalar;

    let boxLoss: tf.Scalar = tf.scalar(0);
    let dflLoss: tf.Scalar = tf.scalar(0);
    if (positives > 0) {
      const weight = tf.tensor1d(weights);
      const iou = ciouTensor(predBoxes.reshape([batch * anchors, 4]) as tf.Tensor2D, tf.tensor2d(targetBoxes, [batch * anchors, 4]));
      boxLoss = tf.scalar(1).sub(iou).mul(weight).sum().div(normaliser).mul(gains.box) as tf.Scalar;
      const logProbs = tf.logSoftmax(dist.reshape([batch * anchors, 4, regMax]));
      const perSide = logProbs.mul(tf.tensor3d(binWeights, [batch * anchors, 4, regMax])).sum(-1).neg();
      dflLoss = perSide.mean(-1).mul(weight).sum().div(normaliser).mul(gains.dfl) as tf.Scalar;
    }
    return { box_loss: boxLoss, cls_loss: clsLoss, dfl_loss: dflLoss, total: boxLoss.add(clsLoss).add(dflLoss) as tf.Scalar };
  });
}
