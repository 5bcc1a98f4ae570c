import { describe, it, expect } from "vitest";
import { bboxIou, iouAt, xywhToXyxy, xyxyToXywh, type Xyxy } from "./boxes";

describe("box conversions", () => {
  it("round-trips xywh and xyxy", () => {
    expect(xywhToXyxy([10, 20, 4, 6])).toEqual([8, 17, 12, 23]);
    expect(xyxyToXywh([8, 17, 12, 23])).toEqual([10, 20, 4, 6]);
  });
});

describe("bboxIou", () => {
  const a: Xyxy = [0, 0, 2, 2];
  const b: Xyxy = [1, 1, 3, 3];

  it("computes IoU of overlapping boxes (1/7)", () => {
    expect(bboxIou(a, b)).toBeCloseTo(1 / 7, 6);
    expect(iouAt(a, 0, b, 0)).toBeCloseTo(1 / 7, 6);
  });

  it("gives 1 for identical boxes and 0 for disjoint ones", () => {
    expect(bboxIou(a, a)).toBeCloseTo(1, 6);
    expect(bboxIou(a, [5, 5, 6, 6])).toBe(0);
    expect(bboxIou(a, a, "ciou")).toBeCloseTo(1, 6);
  });

  it("penalises GIoU by the empty part of the enclosing box", () => {
    // enclosing 3x3 = 9, union 7 -> 1/7 - 2/9
    expect(bboxIou(a, b, "giou")).toBeCloseTo(1 / 7 - 2 / 9, 6);
    // disjoint boxes go negative
    expect(bboxIou(a, [3, 0, 5, 2], "giou")).toBeCloseTo(0 - 2 / 10, 6);
  });

  it("penalises CIoU by centre distance and aspect-ratio mismatch", () => {
    // same aspect ratio: v = 0; centres (1,1),(2,2): rho2 = 2; diagonal of 3x3 enclosing: c2 = 18
    expect(bboxIou(a, b, "ciou")).toBeCloseTo(1 / 7 - 2 / 18, 6);
    expect(bboxIou(a, b, "diou")).toBeCloseTo(1 / 7 - 2 / 18, 6);
    // concentric 2x2 vs 4x1: iou = 2/(4+4-2) = 1/3, rho = 0, v = 4/pi^2 (atan(4) - atan(1))^2
    const c: Xyxy = [-1, -1, 1, 1];
    const d: Xyxy = [-2, -0.5, 2, 0.5];
    const iou = 1 / 3;
    const v = (4 / Math.PI ** 2) * (Math.atan(4) - Math.atan(1)) ** 2;
    const alpha = v / (v - iou + 1);
    expect(bboxIou(c, d, "ciou")).toBeCloseTo(iou - v * alpha, 5);
  });
});
