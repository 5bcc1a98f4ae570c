import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { compileGraph, type ModelGraph } from "../graph/index";
import { classificationLoss, outputsProbabilities } from "./classify";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const graph = (softmax: boolean): ModelGraph => {
  const nodes = [
    { id: "input", type: "Input" },
    { id: "gap", type: "GlobalAvgPool" },
    { id: "head", type: "Dense", data: { units: 3 } },
    ...(softmax ? [{ id: "probs", type: "Softmax" }] : []),
  ];
  return { nodes, edges: nodes.slice(1).map((node, i) => ({ source: nodes[i].id, target: node.id })) };
};

describe("classification loss", () => {
  const logits = tf.tensor2d([[2, 0, -1], [0.5, 0.5, 3]]);
  const labels = Int32Array.from([0, 2]);

  it("is the same on logits and on softmax probabilities", () => {
    const onLogits = classificationLoss(logits, labels, 3, 0.1, false).dataSync()[0];
    const onProbabilities = classificationLoss(tf.softmax(logits), labels, 3, 0.1, true).dataSync()[0];
    expect(onProbabilities).toBeCloseTo(onLogits, 5);
  });

  it("smooths labels like PyTorch: targets (1-ε)·onehot + ε/nc", () => {
    const logProbs = tf.logSoftmax(logits).arraySync() as number[][];
    const eps = 0.3;
    const expected = [0, 1].map((row) => -logProbs[row].reduce((sum, lp, c) => sum + ((c === labels[row] ? 1 - eps : 0) + eps / 3) * lp, 0));
    const loss = classificationLoss(logits, labels, 3, eps, false).dataSync()[0];
    expect(loss).toBeCloseTo((expected[0] + expected[1]) / 2, 5);
  });

  it("recognises graphs that end with a Softmax node", () => {
    expect(outputsProbabilities(compileGraph(graph(true), { inputShape: [32, 32, 3] }))).toBe(true);
    expect(outputsProbabilities(compileGraph(graph(false), { inputShape: [32, 32, 3] }))).toBe(false);
  });
});
