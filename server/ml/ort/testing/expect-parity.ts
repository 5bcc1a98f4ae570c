// Test assertions: per layer type, the ONNX training graph's loss, gradients and moving statistics
// equal the TF.js engine's on the same weights and batch, for every formulation the graph may choose.
import { expect } from "vitest";
import type * as tf from "@tensorflow/tfjs";
import type { ModelGraph } from "../../graph/index";
import type { ChoicePoint } from "../emitter";
import { choiceKey, ortTrainingSupport } from "../train-graph";
import { buildModel, makeBatch, maxRelativeError, ortGradients, tfGradients, tfLoss, weightInfos, weightValues, type ParityCase } from "./parity";

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

/** A kernel [kh, kw, ...rest] with dilation − 1 zeros between its taps: [(kh−1)·dh + 1, (kw−1)·dw + 1, ...rest]. */
function zeroDilated(values: Float32Array, shape: number[], [dh, dw]: [number, number]): { values: Float32Array; shape: number[] } {
  const [kh, kw, ...rest] = shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const eh = (kh - 1) * dh + 1;
  const ew = (kw - 1) * dw + 1;
  const out = new Float32Array(eh * ew * inner);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) out.set(values.subarray((a * kw + b) * inner, (a * kw + b + 1) * inner), (a * dh * ew + b * dw) * inner);
  return { values: out, shape: [eh, ew, ...rest] };
}

function tapsOf(values: Float32Array, shape: number[], [dh, dw]: [number, number], [kh, kw]: [number, number]): Float32Array {
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float32Array(kh * kw * inner);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) out.set(values.subarray((a * dh * shape[1] + b * dw) * inner, (a * dh * shape[1] + b * dw + 1) * inner), (a * kw + b) * inner);
  return out;
}

/**
 * Dilated convolutions against the same graph with each dilated kernel written out undilated (zeros
 * between the taps): same loss, the same gradients at the taps, the same gradients elsewhere; and
 * the TF.js engine's forward loss where TF.js dilates (not its DepthwiseConv2D layer).
 */
export async function expectDilationParity(graph: ModelGraph, c: Omit<ParityCase, "graph">): Promise<{ forms: string[] }> {
  const dilationOf = (data: Record<string, unknown>): [number, number] => {
    const d = data.dilation ?? 1;
    return typeof d === "number" ? [d, d] : (d as [number, number]);
  };
  const dilatedNodes = new Map(graph.nodes.filter((n) => n.data && dilationOf(n.data as Record<string, unknown>).some((d) => d > 1)).map((n) => [n.id, n]));
  const undilated: ModelGraph = {
    ...graph,
    nodes: graph.nodes.map((n) => {
      if (!dilatedNodes.has(n.id)) return n;
      const data = n.data as Record<string, unknown>;
      const k = typeof data.kernel_size === "number" ? [data.kernel_size, data.kernel_size] : (data.kernel_size as number[]);
      const d = dilationOf(data);
      return { ...n, data: { ...data, dilation: 1, kernel_size: [(k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1] } };
    }),
  };
  expect(ortTrainingSupport(graph, [c.imgsz, c.imgsz, 3])).toBeNull();
  const model = buildModel({ ...c, graph });
  const plain = buildModel({ ...c, graph: undilated });
  try {
    const { x, labels } = makeBatch({ ...c, graph });
    const values = weightValues(model);
    const layerOf = (name: string) => name.slice(0, name.lastIndexOf("/")).replace(/_g\d+$/, "");
    const isKernel = (name: string) => dilatedNodes.has(layerOf(name)) && /kernel$/.test(name);
    const kernelSize = (name: string): [number, number] => {
      const shape = model.weights.find((w) => w.originalName === name)!.shape as number[];
      return [shape[0], shape[1]];
    };
    const plainValues = new Map([...values].map(([name, v]) => {
      if (!isKernel(name)) return [name, v];
      const shape = model.weights.find((w) => w.originalName === name)!.shape as number[];
      return [name, zeroDilated(v, shape, dilationOf(dilatedNodes.get(layerOf(name))!.data as Record<string, unknown>)).values];
    }));
    const reference = await ortGradients({ ...c, graph: undilated }, weightInfos(plain), plainValues, x, labels);
    // TF.js's DepthwiseConv2D layer ignores its dilation rate (tfjs-layers: "TODO(cais): Add support for
    // dilation"), so its forward is another function for those.
    const depthwiseDilated = [...dilatedNodes.values()].some((n) => n.type === "DepthwiseConv2d" || (n.data as { groups?: number }).groups !== undefined && model.getLayer(n.id).getClassName() === "DepthwiseConv2D");
    const tfValue = depthwiseDilated ? null : tfLoss(model, { ...c, graph }, x, labels);
    const first = await ortGradients({ ...c, graph }, weightInfos(model), values, x, labels);
    const forms = new Set<string>();
    for (const choices of variants(first.io.points)) {
      const got = await ortGradients({ ...c, graph }, weightInfos(model), values, x, labels, { choices });
      for (const [key, form] of got.io.choicesMade) forms.add(`${key.split(":")[0]}:${form}`);
      expect(Math.abs(got.loss - reference.loss) / Math.abs(reference.loss), "loss").toBeLessThan(1e-5);
      if (tfValue !== null) expect(Math.abs(got.loss - tfValue) / Math.abs(tfValue), "loss vs TF.js").toBeLessThan(1e-5);
      for (const [name, grad] of got.grads) {
        const shape = plain.weights.find((w) => w.originalName === name)!.shape as number[];
        const expected = isKernel(name) ? tapsOf(reference.grads.get(name)!, shape, dilationOf(dilatedNodes.get(layerOf(name))!.data as Record<string, unknown>), kernelSize(name)) : reference.grads.get(name)!;
        expect(maxRelativeError(grad, expected), `${name} with ${[...got.io.choicesMade.values()].join(",")}`).toBeLessThan(TOLERANCE);
      }
    }
    return { forms: [...forms].sort() };
  } finally {
    model.dispose();
    plain.dispose();
  }
}
