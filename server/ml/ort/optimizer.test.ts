// The typed-array optimizers follow train/optimizers.ts step for step, and their state is the same.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend/index";
import type { OptimizerName } from "../train/config";
import { clipByGlobalNorm, TrainOptimizer } from "../train/optimizers";
import { clipScale, FlatOptimizer, SLOT_NAMES, squaredNorm } from "./optimizer";
import { maxRelativeError } from "./testing/parity";

function noise(size: number, seed: number): Float32Array {
  return tf.tidy(() => Float32Array.from(tf.randomNormal([size], 0, 1, "float32", seed).dataSync() as Float32Array));
}

beforeAll(async () => {
  await initBackend("wasm");
});

describe("FlatOptimizer matches TrainOptimizer", () => {
  const cases: [OptimizerName, number, boolean, number][] = [
    ["SGD", 0.9, false, 5e-4],
    ["SGD", 0.9, true, 0],
    ["Adam", 0.9, false, 5e-4],
    ["AdamW", 0.937, false, 0.05],
    ["RMSProp", 0.5, false, 1e-3],
  ];
  it.each(cases)("%s (momentum %s, nesterov %s, weight decay %s): 10 steps, weights and slots", (name, momentum, nesterov, weightDecay) => {
    const settings = { name, momentum, nesterov, weightDecay };
    const shapes = [[3, 3, 2, 4], [4]];
    const values = shapes.map((shape, i) => noise(shape.reduce((a, b) => a * b, 1), 10 + i));
    const variables = shapes.map((shape, i) => ({ key: `layer/w${i}`, variable: tf.variable(tf.tensor(values[i], shape)), decay: shape.length > 1 }));
    const reference = new TrainOptimizer(settings);
    const flat = new FlatOptimizer(settings);
    const params = variables.map((v, i) => ({ key: v.key, values: Float32Array.from(values[i]), decay: v.decay }));
    for (let step = 0; step < 10; step++) {
      const lr = 0.01 * (1 + step / 10);
      const grads = shapes.map((shape, i) => noise(values[i].length, 100 * step + i));
      tf.tidy(() => reference.apply(Object.fromEntries(variables.map((v, i) => [v.variable.name, tf.tensor(grads[i], shapes[i])])), variables, lr));
      flat.apply(params, grads, lr);
    }
    variables.forEach((v, i) => expect(maxRelativeError(params[i].values, v.variable.dataSync() as Float32Array), v.key).toBeLessThan(1e-5));
    const state = reference.getState();
    const flatState = flat.getState();
    expect(flatState.step).toBe(state.step);
    expect([...flatState.slots.keys()].sort()).toEqual(state.slots.map((s) => s.name).sort());
    expect(SLOT_NAMES[name].length * variables.length).toBe(state.slots.length);
    for (const slot of state.slots) expect(maxRelativeError(flatState.slots.get(slot.name)!, slot.tensor.dataSync() as Float32Array), slot.name).toBeLessThan(1e-5);
    reference.dispose();
    tf.dispose(variables.map((v) => v.variable));
  });

  it("clips to the global norm like clipByGlobalNorm", () => {
    const grads = [noise(50, 1), noise(7, 2)];
    const expected = tf.tidy(() => {
      const { grads: clipped } = clipByGlobalNorm({ a: tf.tensor(grads[0]), b: tf.tensor(grads[1]) }, 2);
      return [clipped.a.dataSync() as Float32Array, clipped.b.dataSync() as Float32Array].map((v) => Float32Array.from(v));
    });
    const scale = clipScale(squaredNorm(grads), 2);
    expect(scale).toBeLessThan(1);
    grads.forEach((g, i) => expect(maxRelativeError(g.map((v) => v * scale), expected[i])).toBeLessThan(1e-6));
    expect(clipScale(0.05, 2)).toBe(1);
    expect(clipScale(1e6, 0)).toBe(1);
  });
});
