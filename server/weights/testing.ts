// Files and requests for the weights tests: the engine readers' committed fixtures and a tiny studio checkpoint.

import { mkdir } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { compileGraph, type ModelGraph } from "@/server/ml/graph/index";
import { saveCheckpoint, type TrainProgress } from "@/server/ml/train/checkpoint";

/** A file of server/ml/io/fixtures (generated once with PyTorch / onnx by make_fixtures.py). */
export function ioFixture(name: string): string {
  return path.resolve(import.meta.dirname, "../ml/io/fixtures", name);
}

const tinyGraph: ModelGraph = {
  nodes: [
    { id: "input", type: "Input" },
    { id: "conv", type: "Conv2d", data: { filters: 2, kernel_size: 3 } },
    { id: "gap", type: "GlobalAvgPool" },
    { id: "head", type: "Dense", data: { units: 2 } },
  ],
  edges: [
    { source: "input", target: "conv" },
    { source: "conv", target: "gap" },
    { source: "gap", target: "head" },
  ],
};

/** A studio checkpoint as a run writes it at the end of `epoch`, best at `bestEpoch`. */
export async function writeTinyCheckpoint(file: string, opts: { epoch: number; bestEpoch: number; metrics: Record<string, number> }): Promise<void> {
  if (tf.getBackend() !== "cpu") await tf.setBackend("cpu");
  const model = compileGraph(tinyGraph, { inputShape: [8, 8, 3], seed: 1 });
  const progress: TrainProgress = { epoch: opts.epoch + 1, step: 0, running: {}, trainSeconds: 0, bestFitness: 0.5, bestEpoch: opts.bestEpoch };
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await saveCheckpoint(file, { model, task: "classify", classNames: ["cat", "dog"], inputShape: [8, 8, 3], graph: tinyGraph, progress, seed: 1, config: { model: tinyGraph }, metrics: opts.metrics });
  } finally {
    model.dispose();
  }
}

/** A multipart POST as a browser's FormData sends it. */
export function uploadRequest(url: string, file: { bytes: Uint8Array; filename: string }, fields: Record<string, string> = {}, headers: Record<string, string> = {}): Request {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set("file", new Blob([file.bytes as Uint8Array<ArrayBuffer>]), file.filename);
  return new Request(url, { method: "POST", body: form, headers });
}
