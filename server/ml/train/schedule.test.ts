import { describe, it, expect } from "vitest";
import { epochFactor, learningRateAt, warmupSteps } from "./schedule";

const base = { lr0: 0.1, lrf: 0.01, epochs: 10, cosLr: false, warmupEpochs: 0, stepsPerEpoch: 5 };

describe("learning-rate schedule", () => {
  it("decays linearly from lr0 towards lr0·lrf, one value per epoch", () => {
    // (1 - (e-1)/10)·(1 - 0.01) + 0.01
    expect(learningRateAt(base, 1, 0)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(base, 1, 4)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(base, 2, 0)).toBeCloseTo(0.1 * (0.9 * 0.99 + 0.01), 12); // 0.0901
    expect(learningRateAt(base, 10, 0)).toBeCloseTo(0.1 * (0.1 * 0.99 + 0.01), 12); // 0.0109
  });

  it("follows a half cosine with cos_lr", () => {
    const cos = { ...base, cosLr: true };
    expect(epochFactor(cos, 1)).toBeCloseTo(1, 12);
    // half-way (epoch 6 of 10 → progress 0.5): (1 - cos(π/2))/2·(0.01 - 1) + 1 = 0.505
    expect(epochFactor(cos, 6)).toBeCloseTo(0.505, 12);
    expect(learningRateAt(cos, 6, 3)).toBeCloseTo(0.0505, 12);
  });

  it("ramps up linearly per step during warm-up and then joins the epoch rate", () => {
    const warm = { ...base, warmupEpochs: 0.8 }; // 4 warm-up steps
    expect(warmupSteps(warm)).toBe(4);
    expect([0, 1, 2, 3, 4].map((s) => learningRateAt(warm, 1, s))).toEqual([0.02, 0.04, 0.06, 0.08, 0.1].map((v) => expect.closeTo(v, 12)));
    expect(learningRateAt({ ...base, warmupEpochs: 1.6 }, 2, 2)).toBeCloseTo(0.0901 * 8 / 9, 12); // global step 7 of 8
  });

  it("is a pure function of (epoch, step), so a resumed run continues on the same curve", () => {
    const opts = { ...base, warmupEpochs: 1, cosLr: true };
    const first = [1, 2, 3].flatMap((e) => [0, 2, 4].map((s) => learningRateAt(opts, e, s)));
    const again = [1, 2, 3].flatMap((e) => [0, 2, 4].map((s) => learningRateAt(opts, e, s)));
    expect(again).toEqual(first);
  });
});
