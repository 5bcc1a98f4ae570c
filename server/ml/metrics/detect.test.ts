import { describe, it, expect } from "vitest";
import { DetectionMetrics, type GroundTruthBox } from "./detect";
import type { Detection } from "../detect/nms";
import type { Xyxy } from "../detect/boxes";

const det = (box: Xyxy, cls: number, score: number): Detection => ({ box, cls, score });
const gt = (box: Xyxy, cls: number): GroundTruthBox => ({ box, cls });

describe("DetectionMetrics (COCO AP)", () => {
  it("counts a crowded duplicate as a false positive and interpolates at 101 recall points", () => {
    const m = new DetectionMetrics(1);
    m.add(
      [det([0, 0, 10, 10], 0, 0.9), det([0, 0, 10, 10], 0, 0.8), det([20, 20, 30, 30], 0, 0.7)],
      [gt([0, 0, 10, 10], 0), gt([20, 20, 30, 30], 0)],
    );
    const r = m.compute();
    // precision 1, 1/2, 2/3 at recall .5, .5, 1 -> envelope 1 up to recall .5 (51 points), 2/3 above (50 points)
    const expected = (51 * 1 + 50 * (2 / 3)) / 101;
    expect(r.mAP50).toBeCloseTo(expected, 6);
    expect(r.mAP50_95).toBeCloseTo(expected, 6);
    expect(r.precision).toBeCloseTo(2 / 3, 2);
    expect(r.recall).toBeCloseTo(1, 2);
  });

  it("credits a detection only at IoU thresholds it reaches", () => {
    const m = new DetectionMetrics(1);
    m.add([det([0, 0, 10, 7.2], 0, 0.9)], [gt([0, 0, 10, 10], 0)]); // IoU .72: true positive at .50 .. .70
    const r = m.compute();
    expect(r.mAP50).toBeCloseTo(1, 6);
    expect(r.mAP50_95).toBeCloseTo(0.5, 6);
    expect(r.perClass[0]).toMatchObject({ instances: 1, ap50: expect.closeTo(1, 6), ap50_95: expect.closeTo(0.5, 6) });
  });

  it("gives zeros without predictions and leaves classes without ground truth out of the means", () => {
    const m = new DetectionMetrics(3);
    m.add([], [gt([0, 0, 10, 10], 0)]);
    m.add([det([0, 0, 10, 10], 2, 0.9)], []);
    const r = m.compute();
    expect(r.mAP50).toBe(0);
    expect(r.mAP50_95).toBe(0);
    expect(r.precision).toBe(0);
    expect(r.recall).toBe(0);
    expect(r.perClass[1].ap50).toBeNull();
    expect(r.perClass[2].ap50).toBeNull();
    expect(r.curves.pr.precision[2]).toBeNull();

    const perfect = new DetectionMetrics(3);
    perfect.add([det([0, 0, 10, 10], 0, 0.9), det([50, 50, 60, 60], 2, 0.8)], [gt([0, 0, 10, 10], 0)]);
    // class 2 has no labels: its false positive does not lower mAP (COCO), only shows in the confusion matrix
    expect(perfect.compute().mAP50).toBeCloseTo(1, 6);
  });

  it("reports zero everywhere on an empty evaluation", () => {
    const r = new DetectionMetrics(2).compute();
    expect([r.mAP50, r.mAP50_95, r.precision, r.recall]).toEqual([0, 0, 0, 0]);
  });

  it("rejects class ids outside the class list", () => {
    expect(() => new DetectionMetrics(2).add([det([0, 0, 1, 1], 2, 0.5)], [])).toThrow(/class 2 is outside 0..1/);
  });

  it("agrees with an independent pycocotools-style evaluation to 1e-3", () => {
    const m = new DetectionMetrics(3);
    for (const image of COCO_FIXTURE.images) {
      m.add(
        image.dets.map((d) => det(d.box as Xyxy, d.cls, d.score)),
        image.gts.map((g) => gt(g.box as Xyxy, g.cls)),
      );
    }
    const r = m.compute();
    expect(Math.abs(r.mAP50 - COCO_EXPECTED.mAP50)).toBeLessThan(1e-3);
    expect(Math.abs(r.mAP50_95 - COCO_EXPECTED.mAP50_95)).toBeLessThan(1e-3);
    r.perClass.forEach((c, i) => {
      expect(Math.abs((c.ap50 as number) - COCO_EXPECTED.ap50[i])).toBeLessThan(1e-3);
      expect(Math.abs((c.ap50_95 as number) - COCO_EXPECTED.ap50_95[i])).toBeLessThan(1e-3);
    });
  });
});

describe("DetectionMetrics confusion matrix (Ultralytics semantics)", () => {
  it("places class confusions, misses and background detections", () => {
    const m = new DetectionMetrics(2);
    m.add(
      [
        det([0, 0, 10, 10], 1, 0.9), // covers the class-0 object but says class 1
        det([40, 40, 50, 50], 0, 0.8), // nothing there
        det([20, 20, 30, 30], 1, 0.1), // below the 0.25 confusion threshold: ignored
        det([60, 60, 70, 70], 1, 0.9), // correct
      ],
      [gt([0, 0, 10, 10], 0), gt([20, 20, 30, 30], 1), gt([60, 60, 70, 70], 1)],
    );
    // rows = predicted class, columns = true class, index 2 = background
    expect(m.compute().confusion).toEqual([
      [0, 0, 1],
      [1, 1, 0],
      [0, 1, 0],
    ]);
  });
});

// Generated once by a numpy re-implementation of pycocotools' evaluateImg/accumulate (bbox, maxDets 100).
const COCO_FIXTURE: { images: { dets: { box: number[]; cls: number; score: number }[]; gts: { box: number[]; cls: number }[] }[] } = {"images": [{"dets": [{"box": [69.85, 59.29, 86.63, 77.76], "cls": 1, "score": 0.0839}, {"box": [20.46, 21.46, 40.33, 44.69], "cls": 1, "score": 0.2851}, {"box": [38.89, 43.07, 81.81, 76.43], "cls": 2, "score": 0.8385}, {"box": [39.48, 44.11, 80.39, 77.74], "cls": 2, "score": 0.6577}], "gts": [{"box": [71.78, 62.05, 86.98, 79.66], "cls": 1}, {"box": [69.88, 0.42, 104.16, 33.93], "cls": 0}, {"box": [24.24, 22.27, 40.4, 44.52], "cls": 1}, {"box": [40.36, 44.28, 80.22, 77.64], "cls": 2}]}, {"dets": [{"box": [7.32, 43.29, 31.57, 79.17], "cls": 2, "score": 0.6183}, {"box": [4.74, 31.01, 23.08, 43.82], "cls": 1, "score": 0.8255}], "gts": []}, {"dets": [{"box": [79.65, 48.92, 103.67, 74.43], "cls": 1, "score": 0.8804}, {"box": [10.53, 67.61, 48.77, 104.53], "cls": 2, "score": 0.1882}], "gts": [{"box": [78.3, 47.2, 105.66, 75.62], "cls": 1}, {"box": [54.12, 12.06, 76.21, 27.73], "cls": 0}]}, {"dets": [{"box": [70.1, 37.42, 95.62, 55.73], "cls": 0, "score": 0.7638}, {"box": [2.02, 29.77, 10.99, 41.71], "cls": 1, "score": 0.6749}], "gts": [{"box": [15.4, 74.23, 41.07, 88.01], "cls": 1}, {"box": [51.33, 45.58, 71.37, 66.73], "cls": 2}]}, {"dets": [{"box": [34.39, 41.01, 70.01, 57.91], "cls": 0, "score": 0.2386}, {"box": [31.07, 43.17, 67.57, 62.05], "cls": 0, "score": 0.3731}], "gts": [{"box": [34.26, 41.9, 70.19, 60.91], "cls": 0}, {"box": [54.69, 28.43, 79.31, 60.92], "cls": 1}, {"box": [72.73, 12.08, 110.6, 20.25], "cls": 1}, {"box": [64.84, 10.94, 86.25, 45.03], "cls": 2}]}, {"dets": [{"box": [59.43, 45.89, 80.62, 80.48], "cls": 2, "score": 0.2523}, {"box": [58.41, 44.87, 81.58, 84.66], "cls": 2, "score": 0.6763}, {"box": [30.29, 74.92, 43.09, 95.69], "cls": 0, "score": 0.1088}, {"box": [61.12, 65.22, 92.48, 76.84], "cls": 1, "score": 0.9177}, {"box": [64.16, 70.22, 88.91, 107.52], "cls": 0, "score": 0.0788}], "gts": [{"box": [35.56, 78.43, 60.05, 103.11], "cls": 2}, {"box": [59.42, 46.45, 81.07, 82.55], "cls": 2}, {"box": [32.93, 73.82, 43.13, 95.58], "cls": 0}, {"box": [76.08, 20.08, 109.87, 49.73], "cls": 1}]}, {"dets": [{"box": [20.22, 19.89, 34.22, 46.03], "cls": 0, "score": 0.087}], "gts": []}, {"dets": [{"box": [14.53, 55.61, 21.28, 74.44], "cls": 1, "score": 0.5957}, {"box": [3.17, 64.13, 41.9, 99.46], "cls": 0, "score": 0.3717}, {"box": [25.44, 9.02, 53.49, 42.54], "cls": 0, "score": 0.348}], "gts": [{"box": [13.28, 54.23, 21.96, 72.17], "cls": 1}]}]};
const COCO_EXPECTED = {"mAP50": 0.3019016187333019, "mAP50_95": 0.19988055948451994, "ap50": [0.21122112211221125, 0.2885431400282885, 0.40594059405940597], "ap50_95": [0.12673267326732676, 0.13686940122583685, 0.336039603960396]};
