import { describe, it, expect } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { ciouTensor, detectionLoss } from "./loss";
import { makeAnchors, REG_MAX } from "./dfl";
import { bboxIou } from "./boxes";
import type { Box } from "../augment/geometry";

const imgsz = 64;
const nc = 2;
const grid = makeAnchors(imgsz, imgsz);
const gts: Box[][] = [[{ cls: 1, x: 0.5, y: 0.5, w: 0.5, h: 0.375 }], [{ cls: 0, x: 0.25, y: 0.3, w: 0.3, h: 0.3 }, { cls: 1, x: 0.75, y: 0.7, w: 0.2, h: 0.4 }]];

describe("ciouTensor", () => {
  it("matches the scalar CIoU", () => {
    const a = [1, 2, 9, 7];
    const b = [0, 3, 12, 8];
    const value = ciouTensor(tf.tensor2d([a], [1, 4]), tf.tensor2d([b], [1, 4])).dataSync()[0];
    expect(value).toBeCloseTo(bboxIou(a as never, b as never, "ciou"), 5);
  });
});

describe("detectionLoss", () => {
  it("reports finite parts with finite gradients", () => {
    const raw = tf.variable(tf.randomNormal([2, grid.count, 4 * REG_MAX + nc], 0, 1, "float32", 1));
    const { value, grads } = tf.variableGrads(() => detectionLoss(raw, gts, { numClasses: nc, imgsz, grid }).total, [raw]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const g = grads[raw.name].dataSync();
    expect(g.every(Number.isFinite)).toBe(true);
    expect(g.some((v) => v !== 0)).toBe(true);
    const parts = detectionLoss(raw, gts, { numClasses: nc, imgsz, grid });
    for (const key of ["box_loss", "cls_loss", "dfl_loss"] as const) expect(parts[key].dataSync()[0]).toBeGreaterThan(0);
  });

  it("decreases as the predictions move toward the targets", () => {
    const channels = 4 * REG_MAX + nc;
    const ideal = new Float32Array(2 * grid.count * channels).fill(-8);
    gts.forEach((boxes, b) => {
      for (let a = 0; a < grid.count; a++) {
        const s = grid.strides[a];
        const [px, py] = [grid.points[2 * a], grid.points[2 * a + 1]];
        const gt = boxes.find((g) => Math.abs(px * s - g.x * imgsz) < (g.w * imgsz) / 2 && Math.abs(py * s - g.y * imgsz) < (g.h * imgsz) / 2);
        if (!gt) continue;
        const row = (b * grid.count + a) * channels;
        const [x1, y1, x2, y2] = [(gt.x - gt.w / 2) * imgsz, (gt.y - gt.h / 2) * imgsz, (gt.x + gt.w / 2) * imgsz, (gt.y + gt.h / 2) * imgsz].map((v) => v / s);
        [px - x1, py - y1, x2 - px, y2 - py].forEach((d, side) => {
          const t = Math.min(d, REG_MAX - 1.01);
          const left = Math.floor(t);
          // logits whose softmax puts the distance's mass on its two neighbouring bins
          ideal[row + side * REG_MAX + left] = Math.log(left + 1 - t + 1e-6) + 8;
          ideal[row + side * REG_MAX + left + 1] = Math.log(t - left + 1e-6) + 8;
        });
        ideal[row + 4 * REG_MAX + gt.cls] = 8;
      }
    });
    const target = tf.tensor3d(ideal, [2, grid.count, channels]);
    const start = tf.randomNormal([2, grid.count, channels], 0, 1, "float32", 3);
    const at = (t: number) => detectionLoss(start.mul(1 - t).add(target.mul(t)), gts, { numClasses: nc, imgsz, grid });
    const values = [0, 0.5, 1].map((t) => {
      const p = at(t);
      return [p.box_loss, p.cls_loss, p.dfl_loss, p.total].map((v) => v.dataSync()[0]);
    });
    for (let part = 0; part < 4; part++) {
      expect(values[1][part]).toBeLessThan(values[0][part]);
      expect(values[2][part]).toBeLessThan(values[1][part]);
    }
    expect(values[2][0]).toBeLessThan(0.01); // exact boxes: CIoU 1
  });

  it("gives only a classification loss for images without boxes", () => {
    const raw = tf.zeros([1, grid.count, 4 * REG_MAX + nc]);
    const parts = detectionLoss(raw, [[]], { numClasses: nc, imgsz, grid });
    expect(parts.box_loss.dataSync()[0]).toBe(0);
    expect(parts.dfl_loss.dataSync()[0]).toBe(0);
    // BCE(0 logits, 0 targets) = ln 2 per score, normalised by max(sum of targets, 1) = 1, gain 0.5
    expect(parts.cls_loss.dataSync()[0]).toBeCloseTo(grid.count * nc * Math.LN2 * 0.5, 2);
  });

  it("rejects outputs that do not fit the anchor grid", () => {
    expect(() => detectionLoss(tf.zeros([1, 10, 66]), [[]], { numClasses: nc, imgsz, grid })).toThrow(/does not match/);
  });
});
