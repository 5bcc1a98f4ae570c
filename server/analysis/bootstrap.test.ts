import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DetectionMetrics } from "@/server/ml/metrics/detect";
import { matchImage, type LabelledBox, type ScoredBox } from "@/server/ml/metrics/per-image";
import { bootstrapInterval, judgedBoxes, percentile, seededRandom, weightedMap50 } from "./bootstrap";
import { referenceBootstrapInterval, referenceJudgedBoxes, referenceWeightedMap50 } from "./bootstrap-reference";

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

type Box = { image: number; cls: number; score: number; hit: boolean };

/** Judged rows as any validation could store them: scores on a coarse grid (many ties, across and within images), now and then NaN, images without boxes or labels, a class nothing is labelled with, and a box of a class outside the list. */
function randomJudged(seed: number) {
  const random = seededRandom(seed);
  const pick = (k: number) => Math.floor(random() * k);
  const numClasses = 1 + pick(4);
  const images = 1 + pick(40);
  const boxes: Box[] = Array.from({ length: pick(300) }, () => ({ image: pick(images), cls: pick(numClasses + (random() < 0.02 ? 1 : 0)), score: random() < 0.01 ? Number.NaN : pick(8) / 8, hit: random() < 0.4 }));
  const truths = Array.from({ length: pick(80) }, () => ({ image: pick(images), cls: pick(Math.max(1, numClasses - 1)) }));
  return { numClasses, images, boxes, truths };
}

/** Draws with replacement, or (sometimes) weights that leave most images out. */
function randomWeights(random: () => number, images: number): Uint32Array {
  const weights = new Uint32Array(images);
  if (random() < 0.3) for (let i = 0; i < images; i++) weights[i] = random() < 0.8 ? 0 : Math.floor(random() * 4);
  else for (let i = 0; i < images; i++) weights[Math.floor(random() * images)]++;
  return weights;
}

describe("the fast bootstrap against the plain one", () => {
  it("gives weightedMap50 to the bit, with ties, left-out images and every image once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const data = randomJudged(seed);
        const fast = judgedBoxes(data.numClasses, data.images, data.boxes, data.truths);
        const plain = referenceJudgedBoxes(data.numClasses, data.images, data.boxes, data.truths);
        expect(weightedMap50(fast)).toBe(referenceWeightedMap50(plain));
        const random = seededRandom(seed ^ 0x5bd1e995);
        for (let draw = 0; draw < 20; draw++) {
          const weights = randomWeights(random, data.images);
          expect(weightedMap50(fast, weights)).toBe(referenceWeightedMap50(plain, weights));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("gives the same interval to the bit for the same seed", async () => {
    for (const seed of [0, 1, 2, 3, 4, 5]) {
      const [a, b] = [randomJudged(seed * 2), randomJudged(seed * 2 + 1)];
      const images = Math.min(a.images, b.images);
      const inRange = (d: typeof a) => ({ ...d, images, boxes: d.boxes.filter((x) => x.image < images), truths: d.truths.filter((t) => t.image < images) });
      const [da, db] = [inRange(a), inRange(b)];
      const numClasses = Math.max(da.numClasses, db.numClasses);
      const [fa, fb] = [da, db].map((d) => judgedBoxes(numClasses, images, d.boxes, d.truths));
      const [pa, pb] = [da, db].map((d) => referenceJudgedBoxes(numClasses, images, d.boxes, d.truths));
      const opts = { resamples: 300, seed };
      const fast = await bootstrapInterval(images, (w) => weightedMap50(fb, w) - weightedMap50(fa, w), opts);
      const plain = referenceBootstrapInterval(images, (w) => referenceWeightedMap50(pb, w) - referenceWeightedMap50(pa, w), opts);
      expect(fast[0]).toBe(plain[0]);
      expect(fast[1]).toBe(plain[1]);
    }
  });
});

describe("bootstrapInterval", () => {
  const correctA = Uint8Array.from({ length: 200 }, (_, i) => (i % 4 !== 0 ? 1 : 0));
  const correctB = Uint8Array.from({ length: 200 }, (_, i) => (i % 5 !== 0 ? 1 : 0));
  const accuracyDelta = (w: Uint32Array) => correctB.reduce((s, v, i) => s + (v - correctA[i]) * w[i], 0) / 200;

  it("gives the same interval for the same seed and another for another seed", async () => {
    const first = await bootstrapInterval(200, accuracyDelta, { resamples: 500, seed: 42 });
    expect(await bootstrapInterval(200, accuracyDelta, { resamples: 500, seed: 42 })).toEqual(first);
    expect(await bootstrapInterval(200, accuracyDelta, { resamples: 500, seed: 43 })).not.toEqual(first);
  });

  it("brackets the observed change", async () => {
    const [low, high] = await bootstrapInterval(200, accuracyDelta, { resamples: 1000, seed: 0 });
    const observed = accuracyDelta(new Uint32Array(200).fill(1));
    expect(observed).toBeCloseTo(0.05, 10);
    expect(low).toBeLessThan(observed);
    expect(high).toBeGreaterThan(observed);
    // A is wrong on 50 images, B on 40, and they disagree on 70 of the 200: the change is uncertain.
    expect(high - low).toBeGreaterThan(0.02);
  });

  it("is a single point when both models agree on every image", async () => {
    expect(await bootstrapInterval(50, () => 0, { resamples: 100, seed: 1 })).toEqual([0, 0]);
  });

  it("lets other callbacks run while it resamples", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const slow = () => {
      const until = performance.now() + 1;
      while (performance.now() < until);
      return 0;
    };
    await bootstrapInterval(10, slow, { resamples: 100, seed: 1 });
    clearInterval(timer);
    // 100 ms of statistic in slices of a few ms: the 1 ms timer fires between slices.
    expect(ticks).toBeGreaterThan(3);
  });
});

describe("percentile", () => {
  it("interpolates linearly as numpy does", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([0, 10], 2.5)).toBeCloseTo(0.25, 12);
  });
});
