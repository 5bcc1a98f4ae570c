// PyTorch's BatchNorm training steps (fixtures/make_batch_norm_fixture.py): inputs, outputs and the
// running statistics after each step, for the engines' moving-statistics tests.
import { readFileSync } from "node:fs";
import path from "node:path";

export interface BatchNormStep {
  /** NHWC input, and the output in the same layout ([N, features] for BatchNorm1d). */
  x: number[];
  y: number[];
  running_mean: number[];
  running_var: number[];
}

export interface BatchNormCase {
  name: string;
  module: "BatchNorm2d" | "BatchNorm1d";
  eps: number;
  /** PyTorch's momentum: running ← (1 − momentum)·running + momentum·batch. */
  momentum: number;
  /** NHWC [N, H, W, C]; BatchNorm1d reads it flattened to [N, H·W·C]. */
  shape: [number, number, number, number];
  features: number;
  steps: BatchNormStep[];
}

export function batchNormCases(): BatchNormCase[] {
  const file = path.join(import.meta.dirname, "..", "fixtures", "batch_norm_training.expected.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { cases: BatchNormCase[] }).cases;
}

/** Largest |actual − expected| relative to the largest |expected|. */
export function relativeDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return worst / Math.max(scale, 1e-12);
}
