// Paired bootstrap over images: both models are judged on the same resampled images, so the interval is
// for the change between them, not for either alone. Seeded, so a diff answers the same interval twice.

import { performance } from "node:perf_hooks";

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

// The resamples run on the web server's event loop in slices of about this long, each followed by a
// setImmediate, so other requests wait at most one slice. A worker thread was the alternative: it would
// need the judged boxes copied over, its own entry file in the Next.js build and a pool, for what is now
// a fraction of a second of work per diff (and is cached afterwards).
const SLICE_MS = 8;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `work(0) … work(count − 1)` in order, letting the event loop run between slices of SLICE_MS. */
export async function inSlices<T>(count: number, work: (i: number) => T): Promise<T[]> {
  const results: T[] = new Array(count);
  let sliceStart = performance.now();
  for (let i = 0; i < count; i++) {
    results[i] = work(i);
    if (performance.now() - sliceStart >= SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  return results;
}

/**
 * The 95% percentile interval of `statistic` over `resamples` draws of n images with replacement. The
 * statistic sees each draw as how many times each image was drawn (weights), so it can be computed in one
 * pass without copying images.
 */
export async function bootstrapInterval(n: number, statistic: (weights: Uint32Array) => number, opts: { resamples: number; seed: number }): Promise<[number, number]> {
  const random = seededRandom(opts.seed);
  const weights = new Uint32Array(n);
  const values = Float64Array.from(
    await inSlices(opts.resamples, () => {
      weights.fill(0);
      for (let i = 0; i < n; i++) weights[Math.floor(random() * n)]++;
      return statistic(weights);
    }),
  );
  const finite = Float64Array.from(values.filter(Number.isFinite)).sort();
  return [percentile(finite, 2.5), percentile(finite, 97.5)];
}

/** One class of one model's judged boxes, laid out for the resampling loop. */
export interface JudgedClass {
  /**
   * The images of the boxes in descending score order (ties by image, then as listed), up to the last one
   * that found a labelled box: the false positives after it only lower the precision, and AP reads the
   * best precision at or after each recall point, so they never change it.
   */
  image: Uint32Array;
  /** The positions in `image` of the boxes that found a labelled box, ascending. */
  hitAt: Uint32Array;
  /** The images with labelled boxes of the class, and how many each has. */
  labelledImages: Uint32Array;
  labelledCounts: Uint32Array;
  /** The images with boxes that found one, and how many each has: a draw's TP total, to stop at its last hit. */
  hitImages: Uint32Array;
  hitCounts: Uint32Array;
}

/** One model's boxes on the paired images: per class, which image each is on and whether it found a labelled box (IoU 0.5). */
export interface JudgedBoxes {
  numClasses: number;
  images: number;
  byClass: JudgedClass[];
}

/** The (image, count) pairs of the images in `images`; `dense` is zeroed scratch of one slot per image, left zeroed. */
function countsByImage(images: ArrayLike<number>, dense: Uint32Array): { images: Uint32Array; counts: Uint32Array } {
  let distinct = 0;
  for (let k = 0; k < images.length; k++) if (dense[images[k]]++ === 0) distinct++;
  const result = { images: new Uint32Array(distinct), counts: new Uint32Array(distinct) };
  for (let k = 0, j = 0; k < images.length; k++) {
    const image = images[k];
    if (dense[image] === 0) continue;
    result.images[j] = image;
    result.counts[j++] = dense[image];
    dense[image] = 0;
  }
  return result;
}

/** One class's boxes as stored (listing order): image index, score, found a labelled box (1) or not (0). */
export interface ClassBoxes {
  image: ArrayLike<number>;
  score: ArrayLike<number>;
  hit: ArrayLike<number>;
}

/**
 * One class of judgedBoxes, from its boxes in listing order and the images of its labelled boxes. Only the
 * boxes scoring at least the lowest hit can come before the last hit, so only they are sorted, unless a
 * score is NaN: then the comparator is no order, and what the plain form's sort gives depends on every box.
 */
export function judgedClass(boxes: ClassBoxes, truthImages: ArrayLike<number>, images: number): JudgedClass {
  let anyHit = false;
  let lowestHit = Infinity;
  let hasNaN = false;
  for (let k = 0; k < boxes.score.length; k++) {
    if (boxes.hit[k]) anyHit = true;
    if (boxes.hit[k] && boxes.score[k] < lowestHit) lowestHit = boxes.score[k];
    if (Number.isNaN(boxes.score[k])) hasNaN = true;
  }
  // Positions in listing order, sorted by the plain form's comparator on the same sequence.
  const order: number[] = [];
  if (anyHit) for (let k = 0; k < boxes.score.length; k++) if (hasNaN || boxes.score[k] >= lowestHit) order.push(k);
  const { score, image: listed, hit: listedHit } = boxes;
  order.sort((x, y) => score[y] - score[x] || listed[x] - listed[y] || x - y);
  let end = order.length;
  while (end > 0 && !listedHit[order[end - 1]]) end--;
  const image = new Uint32Array(end);
  const hitAt: number[] = [];
  for (let k = 0; k < end; k++) {
    image[k] = listed[order[k]];
    if (listedHit[order[k]]) hitAt.push(k);
  }
  const dense = new Uint32Array(images);
  const labelled = countsByImage(truthImages, dense);
  const found = countsByImage(hitAt.map((k) => image[k]), dense);
  return { image, hitAt: Uint32Array.from(hitAt), labelledImages: labelled.images, labelledCounts: labelled.counts, hitImages: found.images, hitCounts: found.counts };
}

export function judgedBoxes(numClasses: number, images: number, boxes: { image: number; cls: number; score: number; hit: boolean }[], truths: { image: number; cls: number }[]): JudgedBoxes {
  // Bucketed by class once; a box of a class outside the list counts for no class.
  const boxesOf = Array.from({ length: numClasses }, () => ({ image: [] as number[], score: [] as number[], hit: [] as number[] }));
  for (const b of boxes) {
    const mine = boxesOf[b.cls];
    if (!mine) continue;
    mine.image.push(b.image);
    mine.score.push(b.score);
    mine.hit.push(b.hit ? 1 : 0);
  }
  const truthImagesOf = Array.from({ length: numClasses }, () => [] as number[]);
  for (const t of truths) truthImagesOf[t.cls].push(t.image);
  return { numClasses, images, byClass: boxesOf.map((mine, c) => judgedClass(mine, truthImagesOf[c], images)) };
}

const RECALL_POINTS = 101;
const RECALL_AT = Float64Array.from({ length: RECALL_POINTS }, (_, p) => p / (RECALL_POINTS - 1));
// Scratch for weightedMap50, which never yields: the best precision between one recall point's first box
// and the next one's, then the best at or after each point.
const segmentBest = new Float64Array(RECALL_POINTS);
const bestFrom = new Float64Array(RECALL_POINTS);

const weightedSum = (images: Uint32Array, counts: Uint32Array, weights: Uint32Array) => {
  let sum = 0;
  for (let j = 0; j < images.length; j++) sum += counts[j] * weights[images[j]];
  return sum;
};

/**
 * COCO's AP at IoU 0.5 averaged over the classes that have labelled boxes, with each image counted as
 * often as its weight says (all ones: the plain mAP50). Same interpolation as server/ml/metrics/detect.ts,
 * and the same numbers to the bit as the plain form in bootstrap-reference.ts (a precision per kept box,
 * its running maximum from the end, read at 101 recall points): every precision that can be a maximum is
 * computed by the same operations, and the 101 values are summed in the same order.
 */
export function weightedMap50(judged: JudgedBoxes, weights: Uint32Array = new Uint32Array(judged.images).fill(1)): number {
  let sum = 0;
  let classes = 0;
  for (let c = 0; c < judged.numClasses; c++) {
    const { image, hitAt, labelledImages, labelledCounts, hitImages, hitCounts } = judged.byClass[c];
    const positives = weightedSum(labelledImages, labelledCounts, weights);
    if (positives === 0) continue;
    classes++;
    const hits = weightedSum(hitImages, hitCounts, weights);
    let ap = 0;
    if (hits > 0) {
      // Precision is only taken at hits. A false positive's is at most that of the box kept before it, which
      // is in the same recall segment (segments start at hits), so it is never a segment's best; before the
      // first hit it is 0, which no maximum over the hits' precisions (all ≥ 0) misses.
      let tp = 0;
      let fp = 0;
      let next = 0;
      let point = -1;
      let best = -Infinity;
      let k = 0;
      for (let j = 0; j < hitAt.length; j++) {
        const at = hitAt[j];
        for (; k < at; k++) fp += weights[image[k]];
        k = at + 1;
        const w = weights[image[at]];
        if (w === 0) continue;
        tp += w;
        const recall = tp / positives;
        for (; next < RECALL_POINTS && recall >= RECALL_AT[next]; next++) {
          if (point >= 0) segmentBest[point] = best;
          point = next;
          best = -Infinity;
        }
        const precision = tp / (tp + fp);
        if (precision > best) best = precision;
        if (tp === hits) break;
      }
      segmentBest[point] = best;
      let running = -Infinity;
      for (let p = point; p >= 0; p--) bestFrom[p] = running = segmentBest[p] > running ? segmentBest[p] : running;
      for (let p = 0; p <= point; p++) ap += bestFrom[p];
    }
    sum += ap / RECALL_POINTS;
  }
  return classes === 0 ? 0 : sum / classes;
}
