// Precision-recall curves sampled at COCO's 101 recall points, for the curves the compare page overlays.

export const RECALL_POINTS = Array.from({ length: 101 }, (_, i) => i / 100);

/** The precision envelope at each recall point, from hits listed in descending score order. */
export function interpolatedPrecision(hits: boolean[], positives: number): number[] {
  const recall: number[] = [];
  const precision: number[] = [];
  let tp = 0;
  hits.forEach((hit, i) => {
    if (hit) tp++;
    recall.push(tp / positives);
    precision.push(tp / (i + 1));
  });
  for (let i = precision.length - 1; i > 0; i--) precision[i - 1] = Math.max(precision[i - 1], precision[i]);
  let i = 0;
  return RECALL_POINTS.map((r) => {
    while (i < recall.length && recall[i] < r) i++;
    return i < precision.length ? precision[i] : 0;
  });
}

/** One-vs-rest curve per class from every image's class scores ([image][class] flattened); null for a class no image has. */
export function classificationPrCurves(scores: Float32Array, labels: Int32Array, numClasses: number): (number[] | null)[] {
  return Array.from({ length: numClasses }, (_, c) => {
    const positives = labels.filter((l) => l === c).length;
    if (positives === 0) return null;
    const order = Array.from(labels.keys()).sort((a, b) => scores[b * numClasses + c] - scores[a * numClasses + c]);
    return interpolatedPrecision(order.map((i) => labels[i] === c), positives);
  });
}

/** The mean over classes that have a curve ("all classes"), or null when none has. */
export function meanCurve(curves: (number[] | null)[]): number[] | null {
  const present = curves.filter((c): c is number[] => c !== null);
  if (present.length === 0) return null;
  return RECALL_POINTS.map((_, i) => present.reduce((sum, c) => sum + c[i], 0) / present.length);
}
