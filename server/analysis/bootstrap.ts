// Paired bootstrap over images: both models are judged on the same resampled images, so the interval is
// for the change between them, not for either alone. Seeded, so a diff answers the same interval twice.

/** A small, fast, seedable generator (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** numpy.percentile's default (linear) on ascending values; q in [0, 100]. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
}

/**
 * The 95% percentile interval of `statistic` over `resamples` draws of n images with replacement. The
 * statistic sees each draw as how many times each image was drawn (weights), so it can be computed in one
 * pass without copying images.
 */
export function bootstrapInterval(n: number, statistic: (weights: Uint32Array) => number, opts: { resamples: number; seed: number }): [number, number] {
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

/** One model's boxes on the paired images: image index, class, score, and whether it found a labelled box (IoU 0.5). */
export interface JudgedBoxes {
  numClasses: number;
  /** Labelled boxes per class per image: positives[cls][image]. */
  positives: Uint32Array[];
  /** Per class, the boxes in descending score order (ties by image, then as listed). */
  byClass: { image: Uint32Array; hit: Uint8Array }[];
}

export function judgedBoxes(numClasses: number, images: number, boxes: { image: number; cls: number; score: number; hit: boolean }[], truths: { image: number; cls: number }[]): JudgedBoxes {
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

/**
 * COCO's AP at IoU 0.5 averaged over the classes that have labelled boxes, with each image counted as
 * often as its weight says (all ones: the plain mAP50). Same interpolation as server/ml/metrics/detect.ts.
 */
export function weightedMap50(judged: JudgedBoxes, weights?: Uint32Array): number {
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
