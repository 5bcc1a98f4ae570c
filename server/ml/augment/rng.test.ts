import { describe, it, expect } from "vitest";
import { createRng, shuffleInPlace } from "./rng";

const draw = (rng: ReturnType<typeof createRng>, n: number) => Array.from({ length: n }, () => rng.next());

describe("createRng", () => {
  it("repeats the same sequence for the same seed and differs for another seed", () => {
    expect(draw(createRng(7), 20)).toEqual(draw(createRng(7), 20));
    expect(draw(createRng(7), 20)).not.toEqual(draw(createRng(8), 20));
  });

  it("draws uniform values in [0, 1) with a sensible mean and normals with mean 0, std 1", () => {
    const rng = createRng(1);
    const values = draw(rng, 20000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.reduce((a, b) => a + b) / values.length).toBeCloseTo(0.5, 1);
    const normals = Array.from({ length: 20000 }, () => rng.normal());
    const mean = normals.reduce((a, b) => a + b) / normals.length;
    const variance = normals.reduce((a, b) => a + (b - mean) ** 2, 0) / normals.length;
    expect(mean).toBeCloseTo(0, 1);
    expect(Math.sqrt(variance)).toBeCloseTo(1, 1);
  });

  it("int(n) covers 0..n-1 only", () => {
    const rng = createRng(3);
    const seen = new Set(Array.from({ length: 2000 }, () => rng.int(5)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("forks depend on the label and the parent's seed, not on how much the parent has drawn", () => {
    const parent = createRng(42);
    const before = draw(parent.fork("epoch:1"), 5);
    draw(parent, 100);
    expect(draw(parent.fork("epoch:1"), 5)).toEqual(before);
    expect(draw(parent.fork("epoch:2"), 5)).not.toEqual(before);
    expect(draw(createRng(43).fork("epoch:1"), 5)).not.toEqual(before);
    expect(draw(parent.fork(1).fork(2), 5)).not.toEqual(draw(parent.fork(2).fork(1), 5));
  });

  it("getState/setState resumes the exact sequence, forks included", () => {
    const rng = createRng(5);
    draw(rng, 10);
    const state = rng.getState();
    const expected = draw(rng, 10);
    const expectedFork = draw(rng.fork("x"), 3);
    const restored = createRng(999);
    restored.setState(state);
    expect(draw(restored, 10)).toEqual(expected);
    expect(draw(restored.fork("x"), 3)).toEqual(expectedFork);
    expect(() => restored.setState([1, 2])).toThrow(/invalid rng state/);
  });

  it("shuffleInPlace is a seeded permutation", () => {
    const a = shuffleInPlace([...Array(50).keys()], createRng(1));
    const b = shuffleInPlace([...Array(50).keys()], createRng(1));
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(a).not.toEqual([...Array(50).keys()]);
  });
});
