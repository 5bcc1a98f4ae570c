import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../backend/index";
import { compileGraph } from "../compile";
import "./index";

function seededValues(size: number, seed: number, offset = 0): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5 + offset;
  });
}

type Explicit = [[number, number], [number, number], [number, number], [number, number]];
const explicit = (ph: number, pw: number): Explicit => [[0, 0], [ph, ph], [pw, pw], [0, 0]];

interface Case {
  label: string;
  inputShape: [number, number, number];
  node: { type: string; data: Record<string, unknown> };
  /** The same op with TF.js's own explicit padding, which our layers cannot use on every backend. */
  reference(x: tf.Tensor4D, weights: tf.Tensor[]): tf.Tensor;
  /** Added to the input: all-negative inputs show whether max pooling pads with zeros. */
  inputOffset?: number;
}

const cases: Case[] = [
  {
    label: "Conv2d 3x3 stride 2 padding 1, even size",
    inputShape: [8, 10, 3],
    node: { type: "Conv2d", data: { filters: 4, kernel_size: 3, stride: 2, padding: 1, bias: false } },
    reference: (x, [w]) => tf.conv2d(x, w as tf.Tensor4D, 2, explicit(1, 1)),
  },
  {
    label: "Conv2d 3x5 stride 2 padding [1, 2] with bias and SiLU, odd height",
    inputShape: [7, 8, 2],
    node: { type: "Conv2d", data: { filters: 3, kernel_size: [3, 5], stride: 2, padding: [1, 2], activation: "silu" } },
    reference: (x, [w, b]) => {
      const y = tf.add(tf.conv2d(x, w as tf.Tensor4D, 2, explicit(1, 2)), b);
      return tf.mul(y, tf.sigmoid(y));
    },
  },
  {
    label: "Conv2d 7x7 stride 2 padding 3 (ResNet stem), even size",
    inputShape: [12, 12, 3],
    node: { type: "Conv2d", data: { filters: 2, kernel_size: 7, stride: 2, padding: 3, bias: false } },
    reference: (x, [w]) => tf.conv2d(x, w as tf.Tensor4D, 2, explicit(3, 3)),
  },
  {
    label: "DepthwiseConv2d 3x3 stride 2 padding 1, even size",
    inputShape: [8, 6, 4],
    node: { type: "DepthwiseConv2d", data: { kernel_size: 3, stride: 2, padding: 1, bias: false } },
    reference: (x, [w]) => tf.depthwiseConv2d(x, w as tf.Tensor4D, 2, explicit(1, 1)),
  },
  {
    label: "Conv2d as depthwise (groups = channels) stride 2 padding 1",
    inputShape: [6, 8, 3],
    node: { type: "Conv2d", data: { filters: 3, groups: 3, kernel_size: 3, stride: 2, padding: 1, bias: false } },
    reference: (x, [w]) => tf.depthwiseConv2d(x, w as tf.Tensor4D, 2, explicit(1, 1)),
  },
  {
    label: "MaxPool 3x3 stride 2 padding 1 (ResNet stem) on negative values, even size",
    inputShape: [8, 10, 3],
    node: { type: "MaxPool", data: { kernel_size: 3, stride: 2, padding: 1 } },
    reference: (x) => tf.maxPool(x, 3, 2, 1),
    inputOffset: -1,
  },
  {
    label: "MaxPool 5x5 stride 1 padding 2 (SPPF) on negative values",
    inputShape: [6, 6, 2],
    node: { type: "MaxPool", data: { kernel_size: 5, stride: 1, padding: 2 } },
    reference: (x) => tf.maxPool(x, 5, 1, 2),
    inputOffset: -1,
  },
  {
    label: "MaxPool 2x2 stride 2 padding 1, odd size",
    inputShape: [7, 9, 2],
    node: { type: "MaxPool", data: { kernel_size: 2, stride: 2, padding: 1 } },
    reference: (x) => tf.maxPool(x, 2, 2, 1),
    inputOffset: -1,
  },
];

function graphOf(c: Case) {
  return {
    nodes: [{ id: "input", type: "Input" }, { id: "op", ...c.node }],
    edges: [{ source: "input", target: "op" }],
  };
}

type Values = { shape: number[]; values: number[] };
const values = (t: tf.Tensor): Values => ({ shape: t.shape, values: Array.from(t.dataSync()) });

/** A fixed weighting of the output, so that Σ y·r has a gradient that tells every value apart. */
const weighting = (y: tf.Tensor) => tf.tensor(seededValues(y.size, 3), y.shape);

function expectClose(actual: Values[], expected: Values[]) {
  expect(actual.map((t) => t.shape)).toEqual(expected.map((t) => t.shape));
  actual.forEach((t, i) => {
    const worst = Math.max(0, ...t.values.map((v, j) => Math.abs(v - expected[i].values[j])));
    expect(worst, `tensor ${i}`).toBeLessThan(1e-5);
  });
}

beforeAll(async () => {
  await initBackend("wasm");
});

describe.each(["wasm", "cpu"] as const)("PyTorch-style explicit padding on %s", (backendName) => {
  it.each(cases)("gives TF.js's explicitly padded op, and its gradients: $label", async (c) => {
    await tf.setBackend(backendName);
    const model = compileGraph(graphOf(c), { inputShape: c.inputShape, seed: 1 });
    const layer = model.getLayer("op");
    layer.setWeights(layer.getWeights().map((w, i) => tf.tensor(seededValues(w.size, 10 + i), w.shape)));
    const weightValues = layer.getWeights().map(values);
    const xValues = seededValues(2 * c.inputShape[0] * c.inputShape[1] * c.inputShape[2], 2, c.inputOffset ?? 0);
    const ours = tf.tidy(() => {
      const x = tf.tensor4d(xValues, [2, ...c.inputShape]);
      const y = model.apply(x, { training: true }) as tf.Tensor;
      const r = weighting(y);
      const loss = (input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: true }) as tf.Tensor, r));
      const dx = tf.grad(loss)(x);
      const weightGrads = layer.trainableWeights.length > 0 ? tf.variableGrads(() => loss(x) as tf.Scalar).grads : {};
      return [y, dx, ...layer.trainableWeights.map((w) => weightGrads[w.name])].map(values);
    });
    await tf.setBackend("cpu");
    const reference = tf.tidy(() => {
      const x = tf.tensor4d(xValues, [2, ...c.inputShape]);
      const weights = weightValues.map((w) => tf.tensor(w.values, w.shape));
      const y = c.reference(x, weights);
      const r = weighting(y);
      const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.reference(args[0] as tf.Tensor4D, args.slice(1)), r)))([x, ...weights]);
      return [y, ...grads].map(values);
    });
    expectClose(ours, reference);
    model.dispose();
  });
});

describe("how explicit padding is realised", () => {
  const layerNames = (graph: ReturnType<typeof graphOf>, inputShape: [number, number, number]) =>
    compileGraph(graph, { inputShape }).layers.map((l) => l.name);
  const conv = (stride: number) => graphOf({ ...cases[0], node: { type: "Conv2d", data: { filters: 2, kernel_size: 3, stride, padding: 1 } } });

  it("adds no layer where TF's 'same' pads the same pixels (stride 1; stride 2 on odd sizes)", () => {
    expect(layerNames(conv(1), [8, 8, 3])).toEqual(["input", "op"]);
    expect(layerNames(conv(2), [9, 9, 3])).toEqual(["input", "op"]);
    expect(layerNames(graphOf(cases[6]), [6, 6, 2])).toEqual(["input", "op"]);
  });

  it("pads in front where 'same' would pad only at the end (stride 2 on even sizes)", () => {
    expect(layerNames(conv(2), [8, 8, 3])).toEqual(["input", "op_pad", "op"]);
    expect(layerNames(graphOf(cases[5]), [8, 10, 3])).toEqual(["input", "op_pad", "op"]);
  });

  it("refuses a max-pool padding over half the kernel, as PyTorch does", () => {
    const graph = graphOf({ ...cases[5], node: { type: "MaxPool", data: { kernel_size: 3, stride: 2, padding: 2 } } });
    expect(() => compileGraph(graph, { inputShape: [8, 8, 3] })).toThrow(/padding 2x2 exceeds half the kernel 3x3/);
  });

  it("survives the model's JSON round trip (worker replicas, TF.js export)", async () => {
    await tf.setBackend("cpu");
    const model = compileGraph(graphOf(cases[5]), { inputShape: [8, 10, 3] });
    const rebuilt = await tf.models.modelFromJSON(JSON.parse(model.toJSON() as string));
    const x = tf.tensor4d(seededValues(8 * 10 * 3, 4, -1), [1, 8, 10, 3]);
    const a = model.predict(x) as tf.Tensor;
    const b = rebuilt.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(Math.max(...a.dataSync())).toBeLessThan(0);
    tf.dispose([x, a, b]);
  });
});
