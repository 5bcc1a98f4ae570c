// The plain paired bootstrap the fast one in bootstrap.ts must match bit for bit (same seed, same interval):
// one array push per kept box, one filter per class. Only the tests and `npm run bench:analysis` use it.

import { percentile, seededRandom } from "./bootstrap";

export function referenceBootstrapInterval(n: number, statistic: (weights: Uint32Array) => number, opts: { resamples: number; seed: number }): [number, number] {
  const random = seededRandom(opts.seed);
  const values = new Float64Array(opts.resamples);
  const weights = new Uint32Array(n);
  for (let r = 0; r < opts.resamples; r++) {
    weights.fill(0);
    for (let i = 0; i < n; i++) weights[Math.floor(random() * n)]++;
    values[r] = statistic(weights);
  }
  const finite = Float64Array.from(values.filter(Number.isFinite)).sort();
  return [percentile(finite, 2.5), percentile(finite, 97.5)];
}

export interface ReferenceJudgedBoxes {
  numClasses: number;
  positives: Uint32Array[];
  byClass: { image: Uint32Array; hit: Uint8Array }[];
}

export function referenceJudgedBoxes(
  numClasses: number,
  images: number,
  boxes: { image: number; cls: number; score: number; hit: boolean }[],
  truths: { image: number; cls: number }[],
): ReferenceJudgedBoxes {
  const positives = Array.from({ length: numClasses }, () => new Uint32Array(images));
  for (const t of truths) positives[t.cls][t.image]++;
  const byClass = Array.from({ length: numClasses }, (_, c) => {
    const mine = boxes.map((b, i) => ({ ...b, i })).filter((b) => b.cls === c);
    mine.sort((x, y) => y.score - x.score || x.image - y.image || x.i - y.i);
    return { image: Uint32Array.from(mine.map((b) => b.image)), hit: Uint8Array.from(mine.map((b) => (b.hit ? 1 : 0))) };
  });
  return { numClasses, positives, byClass };
}

const RECALL_POINTS = 101;

export function referenceWeightedMap50(judged: ReferenceJudgedBoxes, weights?: Uint32Array): number {
  let sum = 0;
  let classes = 0;
  for (let c = 0; c < judged.numClasses; c++) {
    const pos = judged.positives[c];
    let positives = 0;
    for (let i = 0; i < pos.length; i++) positives += pos[i] * (weights ? weights[i] : 1);
    if (positives === 0) continue;
    classes++;
    const { image, hit } = judged.byClass[c];
    const recall: number[] = [];
    const precision: number[] = [];
    let tp = 0;
    let fp = 0;
    for (let k = 0; k < image.length; k++) {
      const w = weights ? weights[image[k]] : 1;
      if (w === 0) continue;
      if (hit[k]) tp += w;
      else fp += w;
      recall.push(tp / positives);
      precision.push(tp / (tp + fp));
    }
    for (let i = precision.length - 1; i > 0; i--) precision[i - 1] = Math.max(precision[i - 1], precision[i]);
    let ap = 0;
    let i = 0;
    for (let p = 0; p < RECALL_POINTS; p++) {
      const r = p / (RECALL_POINTS - 1);
      while (i < recall.length && recall[i] < r) i++;
      if (i < precision.length) ap += precision[i];
    }
    sum += ap / RECALL_POINTS;
  }
  return classes === 0 ? 0 : sum / classes;
}
