// Test assertions: per layer type, the ONNX training graph's loss, gradients and moving statistics
// equal the TF.js engine's on the same weights and batch, for every formulation the graph may choose.
import { expect } from "vitest";
import type * as tf from "@tensorflow/tfjs";
import type { ModelGraph } from "../../graph/index";
import type { ChoicePoint } from "../emitter";
import { choiceKey, ortTrainingSupport } from "../train-graph";
import { buildModel, makeBatch, maxRelativeError, ortGradients, tfGradients, weightInfos, weightValues, type ParityCase } from "./parity";

/** A chain of layers after an Input node, ids n0, n1, … */
export function chain(layers: [string, Record<string, unknown>?][]): ModelGraph {
  const nodes = [{ id: "input", type: "Input" }, ...layers.map(([type, data], i) => ({ id: `n${i}`, type, data: data ?? {} }))];
  return { nodes, edges: nodes.slice(1).map((node, i) => ({ source: nodes[i].id, target: node.id })) };
}

/** Every formulation of every choice point appears in at least one variant. */
function variants(points: ChoicePoint[]): Map<string, string>[] {
  const most = Math.max(1, ...points.map((p) => p.candidates.length));
  return Array.from({ length: most }, (_, i) => new Map(points.map((p) => [choiceKey(p), p.candidates[i % p.candidates.length]])));
}

export const TOLERANCE = 1e-4;

export async function expectParity(c: ParityCase, opts: { probabilities?: boolean; everyForm?: boolean } = {}): Promise<{ worst: number; forms: string[] }> {
  expect(ortTrainingSupport(c.graph, [c.imgsz, c.imgsz, 3])).toBeNull();
  const model: tf.LayersModel = buildModel(c);
  try {
    const { x, labels } = makeBatch(c);
    const values = weightValues(model);
    const infos = weightInfos(model);
    const reference = tfGradients(model, c, x, labels);
    const first = await ortGradients(c, infos, values, x, labels, opts);
    let worst = 0;
    const forms = new Set<string>();
    for (const choices of opts.everyForm === false ? [first.io.choicesMade] : variants(first.io.points)) {
      const got = await ortGradients(c, infos, values, x, labels, { ...opts, choices });
      for (const [key, form] of got.io.choicesMade) forms.add(`${key.split(":")[0]}:${form}`);
      expect(Math.abs(got.loss - reference.loss) / Math.abs(reference.loss), "loss").toBeLessThan(1e-5);
      expect([...got.grads.keys()].sort()).toEqual([...reference.grads.keys()].sort());
      for (const [name, grad] of reference.grads) {
        const error = maxRelativeError(got.grads.get(name)!, grad);
        worst = Math.max(worst, error);
        expect(error, `${name} with ${[...got.io.choicesMade.values()].join(",")}`).toBeLessThan(TOLERANCE);
      }
      for (const [name, value] of reference.moving) {
        expect(maxRelativeError(got.moving.get(name)!, value), name).toBeLessThan(TOLERANCE);
      }
    }
    return { worst, forms: [...forms].sort() };
  } finally {
    model.dispose();
  }
}
