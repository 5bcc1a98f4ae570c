/** [N, K] targets of softmax cross-entropy: one-hot with label smoothing, (1 − ε)·onehot + ε/K, as TF.js computes them. */
export function classifyTargets(labels: Int32Array, numClasses: number, labelSmoothing: number, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(labels.length * numClasses);
  const off = Math.fround(labelSmoothing / numClasses);
  const on = Math.fround(Math.fround(1 - labelSmoothing) + off);
  out.fill(labelSmoothing > 0 ? off : 0, 0, labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!(label >= 0 && label < numClasses)) throw new Error(`label ${label} is outside 0..${numClasses - 1}`);
    out[i * numClasses + label] = labelSmoothing > 0 ? on : 1;
  }
  return out;
}

/** Fraction of rows whose highest score (first on ties, like tf.argMax) is the label. */
export function accuracyOf(logits: Float32Array, labels: Int32Array, numClasses: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (logits[i * numClasses + k] > logits[i * numClasses + best]) best = k;
    if (best === labels[i]) correct++;
  }
  return labels.length > 0 ? correct / labels.length : 0;
}
