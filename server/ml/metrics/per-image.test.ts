import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Xyxy } from "../detect/boxes";
import { DetectionMetrics } from "./detect";
import { confusionPairs, matchImage, type LabelledBox, type ScoredBox } from "./per-image";

const box = (b: Xyxy, cls: number, score: number): ScoredBox => ({ box: b, cls, score });
const gt = (b: Xyxy, cls: number): LabelledBox => ({ box: b, cls });

describe("matchImage (TP/FP/FN of one image at IoU 0.5)", () => {
  it("gives a labelled box to the highest-scoring box of its class and leaves the duplicate a false positive", () => {
    const { boxes, truths } = matchImage([box([32, 30, 70, 70], 0, 0.85), box([30, 30, 70, 70], 0, 0.95)], [gt([30, 30, 70, 70], 0)]);
    expect(boxes).toEqual([{ truth: null, iou: null }, { truth: 0, iou: expect.closeTo(1, 6) }]);
    expect(truths).toEqual([{ by: 1, iou: expect.closeTo(1, 6) }]);
  });

  it("never matches across classes or below IoU 0.5", () => {
    const { boxes, truths } = matchImage([box([20, 20, 60, 60], 0, 0.8), box([0, 0, 10, 10], 1, 0.7)], [gt([20, 20, 60, 60], 1), gt([0, 0, 10, 21], 1)]);
    // Class 0 on a class-1 box; the second box covers 100 / 210 of its labelled box (IoU < 0.5).
    expect(boxes.map((b) => b.truth)).toEqual([null, null]);
    expect(truths.map((t) => t.by)).toEqual([null, null]);
  });

  it("keeps the matches of the boxes above any confidence when the boxes below it are dropped", () => {
    fc.assert(
      fc.property(images(2), fc.double({ min: 0, max: 1, noNaN: true }), ({ predicted, truth }, conf) => {
        const all = matchImage(predicted, truth);
        const keptIndex = predicted.flatMap((p, i) => (p.score >= conf ? [i] : []));
        const kept = matchImage(
          keptIndex.map((i) => predicted[i]),
          truth,
        );
        keptIndex.forEach((original, k) => expect(kept.boxes[k].truth).toBe(all.boxes[original].truth));
      }),
    );
  });
});

function images(numClasses: number) {
  const coordinate = fc.integer({ min: 0, max: 40 });
  const xyxy = fc.tuple(coordinate, coordinate, fc.integer({ min: 4, max: 30 }), fc.integer({ min: 4, max: 30 })).map(([x, y, w, h]): Xyxy => [x, y, x + w, y + h]);
  const cls = fc.integer({ min: 0, max: numClasses - 1 });
  // Distinct scores: ties would make the order of equal boxes a matter of convention.
  const predicted = fc.uniqueArray(fc.integer({ min: 1, max: 999 }), { maxLength: 6 }).chain((scores) => fc.tuple(...scores.map((s) => fc.tuple(xyxy, cls).map(([b, c]) => box(b, c, s / 1000)))));
  const truth = fc.array(fc.tuple(xyxy, cls).map(([b, c]) => gt(b, c)), { maxLength: 5 });
  return fc.record({ predicted: predicted.map((p) => [...p]), truth });
}

describe("confusionPairs", () => {
  it("adds up, image by image, to the confusion matrix of the dataset-level metrics", () => {
    fc.assert(
      fc.property(fc.array(images(3), { minLength: 1, maxLength: 6 }), (set) => {
        const metrics = new DetectionMetrics(3);
        const summed = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
        for (const { predicted, truth } of set) {
          metrics.add(predicted, truth);
          for (const [p, a] of confusionPairs(predicted, truth, 3)) summed[p][a]++;
        }
        expect(summed).toEqual(metrics.compute().confusion);
      }),
      { numRuns: 50 },
    );
  });

  it("puts a missed labelled box in the background row and an unmatched box in the background column", () => {
    expect(confusionPairs([box([0, 0, 10, 10], 1, 0.1), box([50, 50, 60, 60], 0, 0.9)], [gt([0, 0, 10, 10], 1)], 2)).toEqual([
      [2, 1],
      [0, 2],
    ]);
  });
});
