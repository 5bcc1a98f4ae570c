import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DetectionMetrics } from "@/server/ml/metrics/detect";
import { matchImage, type LabelledBox, type ScoredBox } from "@/server/ml/metrics/per-image";
import { bootstrapInterval, judgedBoxes, percentile, seededRandom, weightedMap50 } from "./bootstrap";

type Image = { predicted: ScoredBox[]; truth: LabelledBox[] };

/** The judged boxes of a list of images, as the diff builds them from stored outcome rows. */
function judge(images: Image[], numClasses: number) {
  const boxes: { image: number; cls: number; score: number; hit: boolean }[] = [];
  const truths: { image: number; cls: number }[] = [];
  images.forEach(({ predicted, truth }, image) => {
    const m = matchImage(predicted, truth);
    predicted.forEach((p, i) => boxes.push({ image, cls: p.cls, score: p.score, hit: m.boxes[i].truth !== null }));
    truth.forEach((t) => truths.push({ image, cls: t.cls }));
  });
  return judgedBoxes(numClasses, images.length, boxes, truths);
}

function randomImages(seed: number, count: number, numClasses: number): Image[] {
  const random = seededRandom(seed);
  let score = 0;
  return Array.from({ length: count }, () => {
    const truth = Array.from({ length: Math.floor(random() * 4) }, () => {
      const x = random() * 60;
      const y = random() * 60;
      return { box: [x, y, x + 10 + random() * 30, y + 10 + random() * 30] as [number, number, number, number], cls: Math.floor(random() * numClasses) };
    });
    const predicted = [
      ...truth.filter(() => random() < 0.7).map((t) => ({ box: t.box.map((v) => v + random() * 6) as [number, number, number, number], cls: random() < 0.85 ? t.cls : Math.floor(random() * numClasses), score: 0 })),
      ...Array.from({ length: Math.floor(random() * 3) }, () => ({ box: [random() * 80, random() * 80, 90, 90] as [number, number, number, number], cls: Math.floor(random() * numClasses), score: 0 })),
    ];
    // Distinct scores: tied boxes are ordered by convention, which differs between the two computations.
    for (const p of predicted) p.score = 0.05 + 0.9 * random() + 1e-9 * ++score;
    return { predicted, truth };
  });
}

describe("weightedMap50", () => {
  it("is the mAP50 of the dataset-level metrics when every image counts once", () => {
    for (const seed of [1, 2, 3]) {
      const images = randomImages(seed, 30, 3);
      const metrics = new DetectionMetrics(3);
      for (const image of images) metrics.add(image.predicted, image.truth);
      expect(weightedMap50(judge(images, 3))).toBeCloseTo(metrics.compute().mAP50, 10);
    }
  });

  it("counts an image drawn k times as k copies of it", () => {
    const images = randomImages(7, 12, 2);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 12, maxLength: 12 }), (draws) => {
        fc.pre(draws.some((d) => d > 0));
        const copies = images.flatMap((image, i) => Array.from({ length: draws[i] }, () => image));
        expect(weightedMap50(judge(images, 2), Uint32Array.from(draws))).toBeCloseTo(weightedMap50(judge(copies, 2)), 10);
      }),
      { numRuns: 40 },
    );
  });
});

describe("bootstrapInterval", () => {
  const correctA = Uint8Array.from({ length: 200 }, (_, i) => (i % 4 !== 0 ? 1 : 0));
  const correctB = Uint8Array.from({ length: 200 }, (_, i) => (i % 5 !== 0 ? 1 : 0));
  const accuracyDelta = (w: Uint32Array) => correctB.reduce((s, v, i) => s + (v - correctA[i]) * w[i], 0) / 200;

  it("gives the same interval for the same seed and another for another seed", () => {
    const first = bootstrapInterval(200, accuracyDelta, { resamples: 500, seed: 42 });
    expect(bootstrapInterval(200, accuracyDelta, { resamples: 500, seed: 42 })).toEqual(first);
    expect(bootstrapInterval(200, accuracyDelta, { resamples: 500, seed: 43 })).not.toEqual(first);
  });

  it("brackets the observed change", () => {
    const [low, high] = bootstrapInterval(200, accuracyDelta, { resamples: 1000, seed: 0 });
    const observed = accuracyDelta(new Uint32Array(200).fill(1));
    expect(observed).toBeCloseTo(0.05, 10);
    expect(low).toBeLessThan(observed);
    expect(high).toBeGreaterThan(observed);
    // A is wrong on 50 images, B on 40, and they disagree on 70 of the 200: the change is uncertain.
    expect(high - low).toBeGreaterThan(0.02);
  });

  it("is a single point when both models agree on every image", () => {
    expect(bootstrapInterval(50, () => 0, { resamples: 100, seed: 1 })).toEqual([0, 0]);
  });
});

describe("percentile", () => {
  it("interpolates linearly as numpy does", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([0, 10], 2.5)).toBeCloseTo(0.25, 12);
  });
});
