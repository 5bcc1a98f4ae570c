import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportOnnx } from "../export/onnx";
import { compileGraph } from "../graph";
import { zooGraph } from "../zoo";
import { loadOnnxSession } from "./runtime";

let dir: string;
let modelPath: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = await mkdtemp(path.join(os.tmpdir(), "onnx-runtime-"));
  const graph = zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 });
  const model = compileGraph(graph, { inputShape: [32, 32, 3] });
  modelPath = path.join(dir, "model.onnx");
  await writeFile(modelPath, await exportOnnx(model, graph, { classNames: ["a", "b", "c"], task: "classify", imgsz: 32, dynamicBatch: true }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadOnnxSession", () => {
  it("opens a file on the CPU and reports input, outputs and metadata", async () => {
    const session = await loadOnnxSession(modelPath);
    expect(session.inputName).toBe("images");
    expect(session.inputShape).toEqual([-1, 3, 32, 32]);
    expect(session.metadata.names).toBe('{"0":"a","1":"b","2":"c"}');
    const [probs] = await session.run(new Float32Array(2 * 3 * 32 * 32).fill(0.5), [2, 3, 32, 32]);
    expect(probs.dims).toEqual([2, 3]);
    expect(probs.data[0] + probs.data[1] + probs.data[2]).toBeCloseTo(1, 5);
    await session.release();
  });

  it("names the file it cannot read and the bytes it cannot parse", async () => {
    await expect(loadOnnxSession(path.join(dir, "missing.onnx"))).rejects.toThrow(`cannot read ${path.join(dir, "missing.onnx")}`);
    await expect(loadOnnxSession(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow("ONNX Runtime cannot load the given model bytes");
  });

  it("opens on CUDA where the provider exists, otherwise says it is unavailable", async () => {
    try {
      const session = await loadOnnxSession(modelPath, { device: "cuda" });
      expect(session.outputNames).toEqual(["output0"]);
      await session.release();
    } catch (error) {
      expect((error as Error).message).toMatch(/CUDA execution provider is unavailable here .*use device "cpu"/);
    }
  });
});
