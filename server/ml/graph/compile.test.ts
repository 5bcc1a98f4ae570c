import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { exportTfjsLayers, loadTfjsLayers } from "../export/tfjs";
import { analyzeGraph, compileGraph, type ModelGraph } from "./index";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** A skip connection (Add), a channel split (Slice) merged by Concat, grouped conv, BN, Dense. */
const branchy: ModelGraph = {
  nodes: [
    { id: "image", type: "Input" },
    { id: "stem", type: "Conv2d", data: { out: 8, k: 3, s: 2, bias: false } },
    { id: "bn", type: "BatchNorm" },
    { id: "act", type: "SiLU" },
    { id: "grouped", type: "Conv2d", data: { out: 8, k: 3, p: 1, groups: 2 } },
    { id: "skip", type: "Add" },
    { id: "half", type: "Slice", data: { start: 0, end: 4 } },
    { id: "merge", type: "Concat" },
    { id: "gap", type: "GlobalAvgPool" },
    { id: "drop", type: "Dropout", data: { rate: 0.1 } },
    { id: "head", type: "Dense", data: { units: 3 } },
  ],
  edges: [
    { source: "image", target: "stem" },
    { source: "stem", target: "bn" },
    { source: "bn", target: "act" },
    { source: "act", target: "grouped" },
    { source: "grouped", target: "skip" },
    { source: "act", target: "skip" },
    { source: "skip", target: "half" },
    { source: "half", target: "merge" },
    { source: "skip", target: "merge" },
    { source: "merge", target: "gap" },
    { source: "gap", target: "drop" },
    { source: "drop", target: "head" },
  ],
};

const input = () => tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 7);

describe("compileGraph", () => {
  it("builds a model whose parameter count matches the summary", () => {
    const model = compileGraph(branchy, { inputShape: [16, 16, 3], seed: 1 });
    const summary = analyzeGraph(branchy, [16, 16, 3]);
    expect(model.countParams()).toBe(summary.totalParams);
    expect(model.outputs[0].shape).toEqual([null, 3]);
    const output = model.predict(input()) as tf.Tensor;
    expect(output.shape).toEqual([2, 3]);
  });

  it("names layers after node ids", () => {
    const model = compileGraph(branchy, { inputShape: [16, 16, 3] });
    const names = model.layers.map((l) => l.name);
    for (const node of branchy.nodes) expect(names).toContain(node.id);
    expect(model.getLayer("head").getWeights()[0].shape).toEqual([12, 3]);
  });

  it("initialises deterministically from the seed", () => {
    const weights = (seed: number) => compileGraph(branchy, { inputShape: [16, 16, 3], seed }).getWeights().map((w) => Array.from(w.dataSync()));
    expect(weights(5)).toEqual(weights(5));
    expect(weights(5)).not.toEqual(weights(6));
  });

  it("returns one output per sink node, in graph order", () => {
    const twoHeads: ModelGraph = {
      nodes: [
        { id: "in", type: "Input" },
        { id: "p", type: "Conv2d", data: { filters: 2 } },
        { id: "q", type: "GlobalAvgPool" },
      ],
      edges: [
        { source: "in", target: "p" },
        { source: "in", target: "q" },
      ],
    };
    const model = compileGraph(twoHeads, { inputShape: [8, 8, 3] });
    expect(model.outputs.map((o) => o.shape)).toEqual([
      [null, 8, 8, 2],
      [null, 3],
    ]);
  });

  it("saves and reloads the TF.js layers format, custom Slice layer included", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "graph-tfjs-"));
    try {
      const model = compileGraph(branchy, { inputShape: [16, 16, 3], seed: 3 });
      const modelJson = await exportTfjsLayers(model, dir);
      const loaded = await loadTfjsLayers(modelJson);
      const x = input();
      const before = (model.predict(x) as tf.Tensor).dataSync();
      const after = (loaded.predict(x) as tf.Tensor).dataSync();
      expect(Array.from(after)).toEqual(Array.from(before));
      expect(loaded.getLayer("half").getClassName()).toBe("ChannelSlice");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
