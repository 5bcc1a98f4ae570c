export interface ClassificationMetrics {
  /** Share of samples whose label is the highest score. */
  top1: number;
  /** Share whose label is among the 3 (5) highest scores; k is clipped to the number of classes. */
  top3: number;
  top5: number;
  /**
   * Mean F1 over the classes that occur in the labels or the predictions (scikit-learn's default label set,
   * zero_division=0): a class never seen and never predicted is left out instead of counting as 0 or 1.
   */
  macro_f1: number;
  /** F1 over all decisions pooled; equals top-1 accuracy for single-label classification. */
  micro_f1: number;
  /** Per class (index = class id); 0 where the class was never predicted (precision) or never present (recall). */
  precision: number[];
  recall: number[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

/** Rank of the label's score: how many classes scored strictly higher. Ties favour the label. */
function labelRank(scores: Float32Array, offset: number, numClasses: number, label: number): number {
  const labelScore = scores[offset + label];
  let higher = 0;
  for (let c = 0; c < numClasses; c++) if (scores[offset + c] > labelScore) higher++;
  return higher;
}

function argmax(scores: Float32Array, offset: number, numClasses: number): number {
  let best = 0;
  for (let c = 1; c < numClasses; c++) if (scores[offset + c] > scores[offset + best]) best = c;
  return best;
}

/**
 * Metrics from per-sample class scores (probabilities or logits: only their order matters), laid out as
 * [samples, numClasses], and integer labels.
 */
export function classificationMetrics(scores: Float32Array, labels: Int32Array, numClasses: number): ClassificationMetrics {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`numClasses must be a positive integer, got ${numClasses}`);
  const n = labels.length;
  if (scores.length !== n * numClasses) {
    throw new Error(`scores has ${scores.length} values, expected ${n} samples x ${numClasses} classes = ${n * numClasses}`);
  }
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const k3 = Math.min(3, numClasses);
  const k5 = Math.min(5, numClasses);
  let top1 = 0, top3 = 0, top5 = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new Error(`label ${label} of sample ${i} is outside [0, ${numClasses - 1}]`);
    }
    const offset = i * numClasses;
    const predicted = argmax(scores, offset, numClasses);
    confusion[label][predicted]++;
    if (predicted === label) top1++;
    const rank = labelRank(scores, offset, numClasses, label);
    if (rank < k3) top3++;
    if (rank < k5) top5++;
  }

  const precision = new Array<number>(numClasses).fill(0);
  const recall = new Array<number>(numClasses).fill(0);
  let f1Sum = 0;
  let classesSeen = 0;
  for (let c = 0; c < numClasses; c++) {
    const truePositives = confusion[c][c];
    let support = 0, predictedCount = 0;
    for (let j = 0; j < numClasses; j++) {
      support += confusion[c][j];
      predictedCount += confusion[j][c];
    }
    if (support === 0 && predictedCount === 0) continue;
    classesSeen++;
    precision[c] = predictedCount > 0 ? truePositives / predictedCount : 0;
    recall[c] = support > 0 ? truePositives / support : 0;
    const denominator = precision[c] + recall[c];
    f1Sum += denominator > 0 ? (2 * precision[c] * recall[c]) / denominator : 0;
  }

  const accuracy = n > 0 ? top1 / n : 0;
  return {
    top1: accuracy,
    top3: n > 0 ? top3 / n : 0,
    top5: n > 0 ? top5 / n : 0,
    macro_f1: classesSeen > 0 ? f1Sum / classesSeen : 0,
    micro_f1: accuracy,
    precision,
    recall,
    confusion,
  };
}
