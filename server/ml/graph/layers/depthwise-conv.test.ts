import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend/index";
import { exportOnnx } from "../../export/onnx";
import { loadOnnxSession } from "../../onnx/runtime";
import { compileGraph, type ModelGraph } from "../index";
import { depthwiseConv2d } from "./depthwise-conv";

function seededValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

type DepthwiseArgs = Parameters<typeof tf.layers.depthwiseConv2d>[0];

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function seededLayer(args: DepthwiseArgs, inputShape: number[], seed: number): tf.layers.Layer {
  const layer = depthwiseConv2d(args);
  layer.build(inputShape);
  layer.setWeights(layer.weights.map((w, i) => tf.tensor(seededValues(sizeOf(w.shape as number[]), seed + i), w.shape as number[])));
  return layer;
}

beforeAll(async () => {
  await initBackend("wasm");
});

describe("dilated DepthwiseConv2D layer", () => {
  it("reads the taps dilation apart: a hand-computed 5×5 case", async () => {
    await tf.setBackend("cpu");
    const layer = depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: "valid", useBias: false, depthwiseInitializer: "ones" });
    // x[i, j] = 10·i + j: the one output sums rows and columns 0, 2 and 4, i.e. 3·10·(0 + 2 + 4) + 3·(0 + 2 + 4).
    const x = tf.tensor4d(Float32Array.from({ length: 25 }, (_, k) => 10 * Math.floor(k / 5) + (k % 5)), [1, 5, 5, 1]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 1, 1, 1]);
    expect(Array.from(y.dataSync())).toEqual([198]);
    expect(layer.computeOutputShape([null, 5, 5, 1])).toEqual([null, 1, 1, 1]);
    tf.dispose([x, y]);
  });

  it("serialises its dilation rate and is the class a model rebuilt from JSON gets", async () => {
    await tf.setBackend("cpu");
    const ours = depthwiseConv2d({ kernelSize: 3, dilationRate: [2, 3], padding: "same", name: "dw_json" });
    const input = tf.input({ shape: [9, 9, 2] });
    const model = tf.model({ inputs: input, outputs: ours.apply(input) as tf.SymbolicTensor });
    const rebuilt = await tf.models.modelFromJSON(JSON.parse(model.toJSON() as string));
    expect(rebuilt.getLayer("dw_json").constructor).toBe(ours.constructor);
    expect(rebuilt.getLayer("dw_json").getConfig().dilationRate).toEqual([2, 3]);
  });
});

describe.each(["wasm", "cpu"] as const)("dilated DepthwiseConv2D layer on %s", (backendName) => {
  it.each([
    { label: "bias and relu6, same", args: { kernelSize: 3, dilationRate: 2, padding: "same", useBias: true, activation: "relu6" } as DepthwiseArgs },
    { label: "no bias, multiplier 2, 3x2 valid, dilation [2, 3]", args: { kernelSize: [3, 2], depthMultiplier: 2, dilationRate: [2, 3], padding: "valid", useBias: false } as DepthwiseArgs },
  ])("gives tf.depthwiseConv2d's dilated output and shape, and kernel gradients equal to finite differences: $label", async ({ args }) => {
    await tf.setBackend(backendName);
    const x = tf.tensor4d(seededValues(2 * 9 * 8 * 3, 3), [2, 9, 8, 3]);
    const layer = seededLayer(args, x.shape, 20);
    const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D?];
    const y = tf.tidy(() => layer.apply(x) as tf.Tensor);
    const expected = tf.tidy(() => {
      const conv = tf.depthwiseConv2d(x, kernel, 1, args.padding as "same" | "valid", "NHWC", args.dilationRate as [number, number] | number);
      const biased = bias ? tf.add(conv, bias) : conv;
      return args.activation === "relu6" ? tf.relu6(biased) : biased;
    });
    expect(y.shape).toEqual(expected.shape);
    expect(layer.computeOutputShape(x.shape)).toEqual(expected.shape);
    const got = y.dataSync();
    expected.dataSync().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));

    // Linear in the kernel before the activation: a probe of the pre-activation output keeps the loss linear.
    const linear = seededLayer({ ...args, activation: "linear" }, x.shape, 20);
    const probe = tf.tensor(seededValues(y.size, 5), y.shape);
    const loss = () => tf.sum(tf.mul(linear.apply(x) as tf.Tensor, probe)) as tf.Scalar;
    const { grads } = tf.variableGrads(loss);
    const variable = linear.trainableWeights[0];
    const analytic = grads[variable.name].dataSync();
    const base = variable.read().dataSync().slice();
    for (const index of [0, 7, base.length - 1]) {
      const at = (delta: number) => {
        const shifted = base.slice();
        shifted[index] += delta;
        variable.write(tf.tensor(shifted, variable.shape as number[]));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      expect(at(0.5) - at(-0.5)).toBeCloseTo(analytic[index], 3);
    }
    tf.dispose([x, y, expected, probe, kernel, ...(bias ? [bias] : []), ...Object.values(grads)]);
  });
});

describe("dilated depthwise convolutions in a model graph", () => {
  it("give ONNX Runtime's class probabilities for the exported model (DepthwiseConv2d, and Conv2d with groups = channels)", async () => {
    await tf.setBackend("cpu");
    const nodes = [
      { id: "in", type: "Input" },
      { id: "dw", type: "DepthwiseConv2d", data: { k: 3, dilation: 2, padding: 2, depth_multiplier: 2, activation: "relu6" } },
      { id: "grouped", type: "Conv2d", data: { filters: 6, groups: 6, k: 3, dilation: [1, 2], padding: "valid" } },
      { id: "flat", type: "Flatten" },
      { id: "fc", type: "Dense", data: { units: 4 } },
    ];
    const graph: ModelGraph = { nodes, edges: nodes.slice(1).map((node, i) => ({ source: nodes[i].id, target: node.id })) };
    const model = compileGraph(graph, { inputShape: [11, 11, 3], seed: 5 });
    expect(model.getLayer("grouped").outputShape).toEqual([null, 9, 7, 6]);
    const bytes = await exportOnnx(model, graph, { classNames: ["a", "b", "c", "d"], task: "classify", imgsz: 11 });
    const x = tf.randomUniform([1, 11, 11, 3], 0, 1, "float32", 42);
    // The classify export ends in a softmax.
    const expected = tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor).dataSync());
    const session = await loadOnnxSession(bytes);
    try {
      const [result] = await session.run(tf.tidy(() => x.transpose([0, 3, 1, 2]).dataSync() as Float32Array), [1, 3, 11, 11]);
      expect(result.dims).toEqual([1, 4]);
      expected.forEach((v, i) => expect(Math.abs(result.data[i] - v)).toBeLessThan(1e-5));
    } finally {
      await session.release();
      x.dispose();
      model.dispose();
    }
  });
});
