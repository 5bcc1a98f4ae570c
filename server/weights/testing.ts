// Files and requests for the weights tests: the engine readers' committed fixtures and a tiny studio checkpoint.

import { mkdir } from "node:fs/promises";
import yazl from "yazl";
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

/** A zipped TF.js layers-model folder; `files` replaces or removes (null) entries. */
export async function tfjsZip(files: Record<string, string | Buffer | null> = {}): Promise<Buffer> {
  const modelJson = {
    format: "layers-model",
    generatedBy: "keras v2.15.0",
    convertedBy: "TensorFlow.js Converter v4.22.0",
    modelTopology: { class_name: "Sequential", config: { layers: [{ class_name: "InputLayer", config: { batch_input_shape: [null, 32, 32, 3] } }, { class_name: "Dense", config: { units: 2 } }] } },
    weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: [{ name: "dense/kernel", shape: [3, 2], dtype: "float32" }, { name: "dense/bias", shape: [2], dtype: "float32" }] }],
  };
  const entries: Record<string, string | Buffer | null> = { "model/model.json": JSON.stringify(modelJson), "model/group1-shard1of1.bin": Buffer.alloc(32, 1), ...files };
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) if (content !== null) zip.addBuffer(Buffer.from(content), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
