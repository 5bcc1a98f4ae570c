import { describe, it, expect } from "vitest";
import { decodeRawOutput, dflExpectation, makeAnchors, REG_MAX } from "./dfl";

describe("makeAnchors", () => {
  it("places cell centres at index + 0.5 for strides 8/16/32, row-major per level", () => {
    const grid = makeAnchors(64, 32);
    expect(grid.count).toBe(8 * 4 + 4 * 2 + 2 * 1);
    expect(Array.from(grid.points.slice(0, 6))).toEqual([0.5, 0.5, 1.5, 0.5, 2.5, 0.5]);
    // first anchor of row 1 on the stride-8 grid (4 columns wide)
    expect(Array.from(grid.points.slice(8, 10))).toEqual([0.5, 1.5]);
    expect(grid.strides[0]).toBe(8);
    expect(grid.strides[32]).toBe(16);
    expect(grid.strides[grid.count - 1]).toBe(32);
  });

  it("rejects sizes that are not multiples of the largest stride", () => {
    expect(() => makeAnchors(48, 64)).toThrow(/stride 32/);
  });
});

describe("DFL decode", () => {
  it("returns the softmax expectation of the bins", () => {
    const oneHot = new Float32Array(REG_MAX).fill(-100);
    oneHot[5] = 100;
    expect(dflExpectation(oneHot, 0)).toBeCloseTo(5, 5);
    const uniform = new Float32Array(REG_MAX);
    expect(dflExpectation(uniform, 0)).toBeCloseTo(7.5, 5);
    const twoBins = new Float32Array(REG_MAX).fill(-100);
    twoBins[2] = 0;
    twoBins[3] = 0;
    expect(dflExpectation(twoBins, 0)).toBeCloseTo(2.5, 5);
  });

  it("decodes distances into xywh pixels and sigmoid scores in the export layout", () => {
    const grid = makeAnchors(32, 32);
    const nc = 2;
    const channels = 4 * REG_MAX + nc;
    const raw = new Float32Array(grid.count * channels).fill(-100);
    const setBin = (anchor: number, side: number, bin: number) => (raw[anchor * channels + side * REG_MAX + bin] = 100);
    for (let a = 0; a < grid.count; a++) for (let side = 0; side < 4; side++) setBin(a, side, 0);
    // anchor 5 (stride 8, cell x=1,y=1, centre (12,12) px): left 1, top 2, right 3, bottom 4 cells
    const a = 5;
    for (let side = 0; side < 4; side++) raw[a * channels + side * REG_MAX] = -100;
    setBin(a, 0, 1);
    setBin(a, 1, 2);
    setBin(a, 2, 3);
    setBin(a, 3, 4);
    raw[a * channels + 4 * REG_MAX + 1] = 0; // sigmoid(0) = 0.5
    const out = decodeRawOutput(raw, { batch: 1, numClasses: nc, grid });
    const A = grid.count;
    // x1 = (1.5-1)*8 = 4, x2 = (1.5+3)*8 = 36 -> cx 20, w 32; y1 = (1.5-2)*8 = -4, y2 = (1.5+4)*8 = 44 -> cy 20, h 48
    expect(out[a]).toBeCloseTo(20, 4);
    expect(out[A + a]).toBeCloseTo(20, 4);
    expect(out[2 * A + a]).toBeCloseTo(32, 4);
    expect(out[3 * A + a]).toBeCloseTo(48, 4);
    expect(out[5 * A + a]).toBeCloseTo(0.5, 6);
    expect(out[4 * A + a]).toBeLessThan(1e-6);
  });
});
