import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend/index";
import { conv2d } from "./plain-conv";

function seededValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];

const configs: { label: string; args: Conv2DArgs }[] = [
  { label: "no bias, linear, stride 2 same", args: { filters: 4, kernelSize: 3, strides: 2, padding: "same", useBias: false } },
  { label: "no bias, linear, 3x2 valid", args: { filters: 3, kernelSize: [3, 2], padding: "valid", useBias: false } },
  { label: "bias and relu (TF.js's own path)", args: { filters: 4, kernelSize: 3, padding: "same", useBias: true, activation: "relu" } },
];

beforeAll(async () => {
  await initBackend("wasm");
});

describe.each(["wasm", "cpu"] as const)("Conv2d layer on %s", (backendName) => {
  it.each(configs)("gives TF.js's conv2d layer output and weight gradients: $label", async ({ args }) => {
    await tf.setBackend(backendName);
    const x = tf.tensor4d(seededValues(2 * 9 * 8 * 3, 1), [2, 9, 8, 3]);
    const run = (layer: tf.layers.Layer) => {
      layer.build(x.shape);
      layer.setWeights(layer.weights.map((w, i) => tf.tensor(seededValues(w.shape.reduce((a, b) => a! * b!, 1)!, 10 + i), w.shape as number[])));
      const y = tf.tidy(() => layer.apply(x) as tf.Tensor);
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
      const result = { y: Array.from(y.dataSync()), grads: layer.trainableWeights.map((w) => Array.from(grads[w.name].dataSync())) };
      tf.dispose([y, ...Object.values(grads)]);
      return result;
    };
    const ours = run(conv2d({ ...args }));
    const reference = run(tf.layers.conv2d({ ...args }));
    expect(ours.y.length).toBe(reference.y.length);
    ours.y.forEach((v, i) => expect(v).toBeCloseTo(reference.y[i], 4));
    ours.grads.forEach((grad, g) => grad.forEach((v, i) => expect(v).toBeCloseTo(reference.grads[g][i], 3)));
    x.dispose();
  });
});

describe("Conv2d layer without bias or activation", () => {
  it("computes no gradient for its input when only its weights need one", async () => {
    await tf.setBackend("wasm");
    const x = tf.randomUniform([1, 8, 8, 3]) as tf.Tensor4D;
    const kernelsRun = async (layer: tf.layers.Layer) => {
      layer.build(x.shape);
      const profile = await tf.profile(() => tf.dispose(tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar).grads));
      return profile.kernels.map((k) => k.name);
    };
    const args = { filters: 4, kernelSize: 3, padding: "same", useBias: false } as const;
    expect(await kernelsRun(tf.layers.conv2d(args))).toContain("Conv2DBackpropInput");
    const ours = await kernelsRun(conv2d(args));
    expect(ours).toContain("Conv2DBackpropFilter");
    expect(ours).not.toContain("Conv2DBackpropInput");
    x.dispose();
  });

  it("serialises like TF.js's conv2d layer", () => {
    const args = { filters: 4, kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "conv" } as const;
    const ours = conv2d(args);
    expect(ours.getClassName()).toBe("Conv2D");
    expect(ours.getConfig()).toEqual(tf.layers.conv2d(args).getConfig());
  });

  it("is the class a model rebuilt from JSON gets, so worker replicas train like the original", async () => {
    await tf.setBackend("cpu");
    const ours = conv2d({ filters: 2, kernelSize: 3, useBias: false, name: "conv_json" });
    const input = tf.input({ shape: [6, 6, 3] });
    const model = tf.model({ inputs: input, outputs: ours.apply(input) as tf.SymbolicTensor });
    const rebuilt = await tf.models.modelFromJSON(JSON.parse(model.toJSON() as string));
    expect(rebuilt.getLayer("conv_json").constructor).toBe(ours.constructor);
  });
});

describe.each(["wasm", "cpu"] as const)("dilated Conv2d layer on %s", (backendName) => {
  it.each([
    { label: "bias and relu, same", args: { filters: 3, kernelSize: 3, dilationRate: 2, padding: "same", useBias: true, activation: "relu" } as Conv2DArgs },
    { label: "no bias, 3x2 valid, dilation [2, 3]", args: { filters: 2, kernelSize: [3, 2], dilationRate: [2, 3], padding: "valid", useBias: false } as Conv2DArgs },
  ])("gives TF.js's dilated output, and kernel gradients equal to finite differences: $label", async ({ args }) => {
    await tf.setBackend(backendName);
    const x = tf.tensor4d(seededValues(2 * 9 * 8 * 3, 3), [2, 9, 8, 3]);
    const ours = conv2d({ ...args });
    const reference = tf.layers.conv2d({ ...args });
    for (const layer of [ours, reference]) {
      layer.build(x.shape);
      layer.setWeights(layer.weights.map((w, i) => tf.tensor(seededValues(w.shape.reduce((a, b) => a! * b!, 1)!, 20 + i), w.shape as number[])));
    }
    const y = tf.tidy(() => Array.from((ours.apply(x) as tf.Tensor).dataSync()));
    const expected = tf.tidy(() => Array.from((reference.apply(x) as tf.Tensor).dataSync()));
    y.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));

    // Linear in the kernel before the activation: a probe of the pre-activation output keeps the loss linear.
    const linear = conv2d({ ...args, activation: "linear" });
    linear.build(x.shape);
    linear.setWeights(ours.getWeights());
    const probe = tf.tensor(seededValues(y.length, 5), (linear.computeOutputShape(x.shape) as number[]).map((d, i) => (i === 0 ? 2 : d)));
    const loss = () => tf.sum(tf.mul(linear.apply(x) as tf.Tensor, probe)) as tf.Scalar;
    const { grads } = tf.variableGrads(loss);
    const kernel = linear.trainableWeights[0];
    const analytic = grads[kernel.name].dataSync();
    const base = kernel.read().dataSync().slice();
    for (const index of [0, 7, base.length - 1]) {
      const at = (delta: number) => {
        const shifted = base.slice();
        shifted[index] += delta;
        kernel.write(tf.tensor(shifted, kernel.shape as number[]));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      expect((at(0.5) - at(-0.5)) / 1).toBeCloseTo(analytic[index], 2);
    }
    tf.dispose([x, probe, ...Object.values(grads)]);
  });
});
