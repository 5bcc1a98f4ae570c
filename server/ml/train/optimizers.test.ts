import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { clipByGlobalNorm, TrainOptimizer, OptimizerStateError, type OptimizerSettings, type TrainableVariable } from "./optimizers";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function weights(values: number[], decay = true): TrainableVariable[] {
  const variable = tf.variable(tf.tensor2d(values, [1, values.length]));
  return [{ key: "dense/kernel", variable, decay }];
}

/** Runs optimizer steps with a fixed gradient and returns the weight after each step. */
function run(settings: OptimizerSettings, grad: number[], lr: number, steps: number, start = [1, -2]): number[][] {
  const vars = weights(start);
  const optimizer = new TrainOptimizer(settings);
  const history: number[][] = [];
  for (let i = 0; i < steps; i++) {
    const g = tf.tensor2d(grad, [1, grad.length]);
    optimizer.apply({ [vars[0].variable.name]: g }, vars, lr);
    g.dispose();
    history.push(Array.from(vars[0].variable.dataSync()));
  }
  optimizer.dispose();
  vars[0].variable.dispose();
  return history;
}

const plain = { momentum: 0.9, nesterov: false, weightDecay: 0 };

describe("optimizers (PyTorch semantics)", () => {
  it("SGD with momentum accumulates the velocity", () => {
    // buf1 = g = 1 → w = 1 - 0.1 = 0.9; buf2 = 0.9·1 + 1 = 1.9 → w = 0.9 - 0.19 = 0.71
    const [s1, s2] = run({ name: "SGD", ...plain }, [1, 1], 0.1, 2);
    expect(s1[0]).toBeCloseTo(0.9, 6);
    expect(s2[0]).toBeCloseTo(0.71, 6);
  });

  it("nesterov SGD looks ahead by momentum·buffer", () => {
    // step1: buf = 1, update = g + 0.9·buf = 1.9 → w = 1 - 0.19 = 0.81
    const [s1] = run({ name: "SGD", ...plain, nesterov: true }, [1, 1], 0.1, 1);
    expect(s1[0]).toBeCloseTo(0.81, 6);
  });

  it("SGD weight decay adds wd·w to the gradient of kernels only", () => {
    // g' = 1 + 0.5·1 = 1.5 → w = 1 - 0.15
    const [s1] = run({ name: "SGD", ...plain, weightDecay: 0.5 }, [1, 1], 0.1, 1);
    expect(s1[0]).toBeCloseTo(0.85, 6);
    const bias = weights([1], false);
    const optimizer = new TrainOptimizer({ name: "SGD", ...plain, weightDecay: 0.5 });
    optimizer.apply({ [bias[0].variable.name]: tf.tensor2d([1], [1, 1]) }, bias, 0.1);
    expect(bias[0].variable.dataSync()[0]).toBeCloseTo(0.9, 6);
  });

  it("Adam's first step moves each weight by lr against the gradient sign", () => {
    const [s1] = run({ name: "Adam", ...plain }, [0.3, -4], 0.01, 1);
    expect(s1[0]).toBeCloseTo(1 - 0.01, 5);
    expect(s1[1]).toBeCloseTo(-2 + 0.01, 5);
  });

  it("AdamW decays the weight directly, not through the gradient", () => {
    // w = w·(1 - lr·wd) - lr·sign(g) = 1·(1 - 0.01·0.5) - 0.01
    const [w] = run({ name: "AdamW", ...plain, weightDecay: 0.5 }, [0.3, 0.3], 0.01, 1);
    expect(w[0]).toBeCloseTo(0.995 - 0.01, 5);
    // Adam with the same decay couples it into the gradient, where Adam's normalisation hides it.
    const [a] = run({ name: "Adam", ...plain, weightDecay: 0.5 }, [0.3, 0.3], 0.01, 1);
    expect(a[0]).toBeCloseTo(1 - 0.01, 5);
  });

  it("RMSProp divides by the running RMS of the gradient", () => {
    // v = 0.01·g² → step = g / sqrt(0.01 g²) = 10 → w = 1 - 0.001·10
    const [s1] = run({ name: "RMSProp", ...plain, momentum: 0 }, [2, 2], 0.001, 1);
    expect(s1[0]).toBeCloseTo(0.99, 5);
  });

  it("clips gradients to a global L2 norm and leaves small ones alone", () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([4]) }; // norm 5
    const clipped = clipByGlobalNorm(grads, 1);
    expect(clipped.norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(Array.from(clipped.grads.a.dataSync())).toEqual([expect.closeTo(0.6, 5), 0]);
    expect(clipped.grads.b.dataSync()[0]).toBeCloseTo(0.8, 5);
    const untouched = clipByGlobalNorm(grads, 10);
    expect(untouched.grads.b.dataSync()[0]).toBeCloseTo(4, 5);
    tf.dispose([grads, clipped, untouched] as unknown as tf.Tensor[]);
  });

  it("state round-trips: a restored optimizer continues exactly like the original", () => {
    for (const name of ["SGD", "Adam", "AdamW", "RMSProp"] as const) {
      const settings = { name, momentum: 0.9, nesterov: true, weightDecay: 0.01 };
      const reference = run(settings, [0.5, -1], 0.05, 3);

      const vars = weights([1, -2]);
      const first = new TrainOptimizer(settings);
      const step = (optimizer: TrainOptimizer) => {
        const g = tf.tensor2d([0.5, -1], [1, 2]);
        optimizer.apply({ [vars[0].variable.name]: g }, vars, 0.05);
        g.dispose();
      };
      step(first);
      step(first);
      const state = first.getState();
      expect(state.step).toBe(2);
      const copies = state.slots.map((s) => ({ name: s.name, tensor: s.tensor.clone() }));
      first.dispose();
      const second = new TrainOptimizer(settings);
      second.setState({ ...state, slots: copies }, vars);
      tf.dispose(copies.map((c) => c.tensor));
      step(second);
      expect(Array.from(vars[0].variable.dataSync())).toEqual(reference[2].map((v) => expect.closeTo(v, 6)));
      second.dispose();
      vars[0].variable.dispose();
    }
  });

  it("refuses state of another optimizer, naming both", () => {
    const optimizer = new TrainOptimizer({ name: "SGD", ...plain });
    expect(() => optimizer.setState({ name: "Adam", step: 1, slots: [] }, [])).toThrow(OptimizerStateError);
    expect(() => optimizer.setState({ name: "Adam", step: 1, slots: [] }, [])).toThrow(/Adam.*SGD/);
  });

  it("does not leak tensors across steps", () => {
    const vars = weights([1, 2]);
    const optimizer = new TrainOptimizer({ name: "AdamW", ...plain, weightDecay: 0.1 });
    const g = tf.tensor2d([1, 1], [1, 2]);
    optimizer.apply({ [vars[0].variable.name]: g }, vars, 0.1);
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) optimizer.apply({ [vars[0].variable.name]: g }, vars, 0.1);
    expect(tf.memory().numTensors).toBe(after1);
  });
});
