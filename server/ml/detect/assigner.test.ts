import { describe, it, expect } from "vitest";
import { assignTargets } from "./assigner";

/** Anchor centres of an 8x8 stride-8 grid (64 px image), in pixels. */
function gridAnchors(): Float32Array {
  const out = new Float32Array(64 * 2);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) out.set([(x + 0.5) * 8, (y + 0.5) * 8], 2 * (y * 8 + x));
  return out;
}

describe("assignTargets", () => {
  it("takes the top-10 anchors by alignment metric and normalises target scores to the best IoU", () => {
    const anchors = 64;
    const predScores = new Float32Array(anchors * 2);
    const predBoxes = new Float32Array(anchors * 4);
    for (let a = 0; a < anchors; a++) {
      predScores[a * 2 + 1] = (a + 1) / 64; // class 1 score grows with the anchor index
      predBoxes.set([0, 0, 64, 64], 4 * a); // every prediction is exact: CIoU 1
    }
    const r = assignTargets({
      predScores,
      predBoxes,
      anchorPoints: gridAnchors(),
      gtLabels: Int32Array.of(1),
      gtBoxes: Float32Array.of(0, 0, 64, 64),
      numClasses: 2,
    });
    const positives = [...r.fgMask.keys()].filter((a) => r.fgMask[a]);
    expect(positives).toEqual([54, 55, 56, 57, 58, 59, 60, 61, 62, 63]);
    expect(r.targetScores[63 * 2 + 1]).toBeCloseTo(1, 5);
    // metric = score^0.5 * 1^6; normalised by the best metric, times the best IoU (1)
    expect(r.targetScores[54 * 2 + 1]).toBeCloseTo(Math.sqrt(55 / 64) / Math.sqrt(64 / 64), 5);
    expect(r.targetScores[54 * 2]).toBe(0);
    expect(Array.from(r.targetBoxes.subarray(4 * 60, 4 * 61))).toEqual([0, 0, 64, 64]);
    expect(r.targetScores[10 * 2 + 1]).toBe(0);
  });

  it("gives an anchor chosen by two boxes to the one it overlaps most", () => {
    // anchor 0 at (10,10) lies in both boxes; its prediction equals box B. Anchor 1 at (3,3) is only in A.
    const anchorPoints = Float32Array.of(10, 10, 3, 3, 100, 100);
    const r = assignTargets({
      predScores: Float32Array.of(0.5, 0.5, 0.5, 0.5, 0.5, 0.5),
      predBoxes: Float32Array.of(5, 5, 30, 30, 0, 0, 20, 20, 90, 90, 110, 110),
      anchorPoints,
      gtLabels: Int32Array.of(0, 1),
      gtBoxes: Float32Array.of(0, 0, 20, 20, 5, 5, 30, 30),
      numClasses: 2,
    });
    expect(Array.from(r.fgMask)).toEqual([1, 1, 0]);
    expect(Array.from(r.targetGtIdx.subarray(0, 2))).toEqual([1, 0]);
    expect(r.targetScores[0 * 2 + 1]).toBeGreaterThan(0.99);
    expect(r.targetScores[1 * 2 + 0]).toBeGreaterThan(0.99);
  });

  it("leaves anchors on a box edge and images without boxes as background", () => {
    const edge = assignTargets({
      predScores: Float32Array.of(0.9),
      predBoxes: Float32Array.of(0, 0, 16, 16),
      anchorPoints: Float32Array.of(16, 8),
      gtLabels: Int32Array.of(0),
      gtBoxes: Float32Array.of(0, 0, 16, 16),
      numClasses: 1,
    });
    expect(edge.fgMask[0]).toBe(0);
    const empty = assignTargets({
      predScores: new Float32Array(64),
      predBoxes: new Float32Array(256),
      anchorPoints: gridAnchors(),
      gtLabels: new Int32Array(0),
      gtBoxes: new Float32Array(0),
      numClasses: 1,
    });
    expect(empty.fgMask.every((v) => v === 0)).toBe(true);
    expect(empty.targetScores.every((v) => v === 0)).toBe(true);
  });
});
