import { describe, it, expect } from "vitest";
import { detectionsFromRaw, toSourcePixels } from "./predict";
import { makeAnchors, REG_MAX } from "./dfl";

describe("detectionsFromRaw", () => {
  it("decodes, thresholds and suppresses raw head outputs", () => {
    const grid = makeAnchors(32, 32);
    const nc = 2;
    const channels = 4 * REG_MAX + nc;
    const raw = new Float32Array(grid.count * channels).fill(-20);
    // anchors 0 and 1 (stride 8, centres (4,4) and (12,4)) both predict 1 cell on every side, class 1
    for (const a of [0, 1]) {
      for (let side = 0; side < 4; side++) raw[a * channels + side * REG_MAX + 1] = 20;
      raw[a * channels + 4 * REG_MAX + 1] = a === 0 ? 3 : 2;
    }
    const [dets] = detectionsFromRaw(raw, { batch: 1, numClasses: nc, imgsz: 32 }, { conf: 0.25, iou: 0.1 });
    expect(dets).toHaveLength(1);
    expect(dets[0].cls).toBe(1);
    expect(dets[0].score).toBeCloseTo(1 / (1 + Math.exp(-3)), 5);
    dets[0].box.forEach((v, i) => expect(v).toBeCloseTo([-4, -4, 12, 12][i], 4));
  });
});

describe("toSourcePixels", () => {
  it("undoes the letterbox and clips to the source image", () => {
    // 200x100 source letterboxed into 64: scale 0.32, padY 16
    const [d] = toSourcePixels([{ box: [0, 16, 32, 32], score: 0.9, cls: 0 }], { scale: 0.32, padX: 0, padY: 16 }, 200, 100);
    d.box.forEach((v, i) => expect(v).toBeCloseTo([0, 0, 100, 50][i], 6));
    const [clipped] = toSourcePixels([{ box: [-10, 0, 70, 70], score: 0.9, cls: 0 }], { scale: 0.32, padX: 0, padY: 16 }, 200, 100);
    expect(clipped.box).toEqual([0, 0, 200, 100]);
  });
});
