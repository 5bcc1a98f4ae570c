import { describe, it, expect } from "vitest";
import { classificationMetrics } from "./classify";

/** One-hot-ish scores: the predicted class gets 0.9, the rest share the remainder in a fixed order. */
function scoresFor(predictions: number[][], numClasses: number): Float32Array {
  const out = new Float32Array(predictions.length * numClasses);
  predictions.forEach((ranking, i) => ranking.forEach((c, rank) => (out[i * numClasses + c] = 1 - rank * 0.1)));
  return out;
}

describe("classificationMetrics", () => {
  it("computes accuracy, per-class precision/recall and the confusion matrix by hand", () => {
    // labels:      0 0 0 1 1 2
    // predictions: 0 0 1 1 2 2
    const labels = new Int32Array([0, 0, 0, 1, 1, 2]);
    const scores = scoresFor([[0], [0], [1], [1], [2], [2]], 3);
    const m = classificationMetrics(scores, labels, 3);
    expect(m.top1).toBeCloseTo(4 / 6);
    expect(m.micro_f1).toBeCloseTo(4 / 6);
    expect(m.confusion).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    expect(m.precision).toEqual([1, 0.5, 0.5]);
    expect(m.recall.map((r) => +r.toFixed(6))).toEqual([+(2 / 3).toFixed(6), 0.5, 1]);
    const f1 = [0.8, 0.5, 2 / 3];
    expect(m.macro_f1).toBeCloseTo((f1[0] + f1[1] + f1[2]) / 3);
  });

  it("macro F1 punishes a model that ignores the rare class while micro F1 (accuracy) does not", () => {
    // 9 samples of class 0, 1 of class 1; the model always says 0.
    const labels = new Int32Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const scores = scoresFor(Array.from({ length: 10 }, () => [0, 1]), 2);
    const m = classificationMetrics(scores, labels, 2);
    expect(m.micro_f1).toBeCloseTo(0.9);
    // class 0: p = 0.9, r = 1, F1 = 18/19; class 1: F1 = 0 (zero_division = 0)
    expect(m.macro_f1).toBeCloseTo(18 / 19 / 2);
    expect(m.precision[1]).toBe(0);
    expect(m.recall[1]).toBe(0);
  });

  it("leaves classes absent from labels and predictions out of macro F1", () => {
    const labels = new Int32Array([0, 1]);
    const scores = scoresFor([[0], [1]], 4);
    expect(classificationMetrics(scores, labels, 4).macro_f1).toBe(1);
  });

  it("counts top-k hits and clips k to the number of classes", () => {
    const labels = new Int32Array([3, 3, 3, 3]);
    // label ranked 1st, 2nd, 3rd, 6th
    const rankings = [[3, 0, 1, 2, 4, 5], [0, 3, 1, 2, 4, 5], [0, 1, 3, 2, 4, 5], [0, 1, 2, 4, 5, 3]];
    const m = classificationMetrics(scoresFor(rankings, 6), labels, 6);
    expect(m.top1).toBe(0.25);
    expect(m.top3).toBe(0.75);
    expect(m.top5).toBe(0.75);
    const two = classificationMetrics(scoresFor([[1, 0], [1, 0]], 2), new Int32Array([0, 1]), 2);
    expect(two.top1).toBe(0.5);
    expect(two.top3).toBe(1);
    expect(two.top5).toBe(1);
  });

  it("works on logits as well as probabilities (only the order matters)", () => {
    const logits = new Float32Array([-3, 2, 0.5, 4, -1, 0]);
    const m = classificationMetrics(logits, new Int32Array([1, 0]), 3);
    expect(m.top1).toBe(1);
  });

  it("rejects mismatched shapes and out-of-range labels with clear messages", () => {
    expect(() => classificationMetrics(new Float32Array(5), new Int32Array(2), 3)).toThrow(/expected 2 samples x 3 classes/);
    expect(() => classificationMetrics(new Float32Array(6), new Int32Array([0, 3]), 3)).toThrow(/label 3 of sample 1/);
  });
});
