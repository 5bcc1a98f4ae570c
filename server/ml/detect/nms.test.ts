import { describe, it, expect } from "vitest";
import { nonMaxSuppression } from "./nms";

/** Build a [1, 4+nc, anchors] output from per-anchor rows [cx, cy, w, h, ...scores]. */
function output(rows: number[][]): Float32Array {
  const channels = rows[0].length;
  const out = new Float32Array(channels * rows.length);
  rows.forEach((row, a) => row.forEach((v, c) => (out[c * rows.length + a] = v)));
  return out;
}

describe("nonMaxSuppression", () => {
  const rows = [
    [50, 50, 20, 20, 0.9, 0.1],
    [51, 50, 20, 20, 0.8, 0.1], // duplicate of 0, same class
    [51, 51, 20, 20, 0.1, 0.7], // same place, other class
    [150, 150, 10, 10, 0.6, 0.0],
    [10, 10, 5, 5, 0.2, 0.1], // below conf
  ];
  const dims = { batch: 1, numClasses: 2, anchors: rows.length };

  it("keeps the best box per object and class, sorted by score", () => {
    const [dets] = nonMaxSuppression(output(rows), dims, { conf: 0.25, iou: 0.5 });
    expect(dets.map((d) => [d.cls, d.score])).toEqual([
      [0, expect.closeTo(0.9, 6)],
      [1, expect.closeTo(0.7, 6)],
      [0, expect.closeTo(0.6, 6)],
    ]);
    expect(dets[0].box).toEqual([40, 40, 60, 60]);
  });

  it("suppresses across classes when agnostic", () => {
    const [dets] = nonMaxSuppression(output(rows), dims, { conf: 0.25, iou: 0.5, agnostic: true });
    expect(dets.map((d) => d.cls)).toEqual([0, 0]);
  });

  it("honours maxDet and handles empty output per image", () => {
    const [dets] = nonMaxSuppression(output(rows), dims, { conf: 0.25, iou: 0.5, maxDet: 1 });
    expect(dets).toHaveLength(1);
    const [none] = nonMaxSuppression(output(rows), dims, { conf: 0.95 });
    expect(none).toEqual([]);
  });

  it("processes each image of a batch separately", () => {
    const one = output(rows);
    const two = new Float32Array(one.length * 2);
    two.set(one);
    two.set(one, one.length);
    const res = nonMaxSuppression(two, { ...dims, batch: 2 }, { conf: 0.25, iou: 0.5 });
    expect(res[1]).toEqual(res[0]);
  });

  it("rejects an output of the wrong size", () => {
    expect(() => nonMaxSuppression(new Float32Array(7), dims)).toThrow(/expected 1x6x5/);
  });
});
