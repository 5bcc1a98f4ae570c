// Softmax cross-entropy over the graph's one output [N, K] (mean over the batch), as the TF.js
// engine computes it (train/classify-loss.ts), and its gradient; the targets (label smoothing
// applied, ort/targets.ts) are a graph input.
import type { TrainGraph, Value } from "./builder";

export interface ClassifyLossSpec {
  kind: "classify";
  numClasses: number;
  /** The graph ends in a Softmax: cross-entropy on clipped probabilities, as the TF.js engine computes it. */
  probabilities: boolean;
}

export function emitClassifyLoss(g: TrainGraph, spec: ClassifyLossSpec, logits: Value): { targets: string; outputs: Record<string, string>; dLogits: string } {
  const [batch] = logits.shape;
  const t = g.input("targets", [batch, spec.numClasses]);
  let dLogits: string;
  let loss: string;
  if (spec.probabilities) {
    // −mean Σ t·log(clip(p, 1e-7, 1)); the clip passes gradients only inside its range.
    const clipped = g.op("Clip", [logits.name, g.f32(1e-7), g.f32(1)]);
    loss = g.scale(g.op("ReduceSum", [g.mul(t, g.op("Log", [clipped]))], { keepdims: 0 }), -1 / batch);
    const inside = g.op("Cast", [g.op("And", [g.op("GreaterOrEqual", [logits.name, g.f32(1e-7)]), g.op("LessOrEqual", [logits.name, g.f32(1)])])], { to: 1 });
    dLogits = g.mul(g.scale(g.op("Div", [t, clipped]), -1 / batch), inside);
  } else {
    const logSoftmax = g.op("LogSoftmax", [logits.name], { axis: 1 });
    loss = g.scale(g.op("ReduceSum", [g.mul(t, logSoftmax)], { keepdims: 0 }), -1 / batch);
    dLogits = g.scale(g.sub(g.op("Exp", [logSoftmax]), t), 1 / batch);
  }
  return { targets: t, outputs: { loss: g.output("loss", loss, []) }, dLogits };
}
