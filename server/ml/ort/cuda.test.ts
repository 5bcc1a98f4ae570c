// ort:cuda:N: the CUDA execution provider with the device id, CUDA-friendly formulations, and — on a
// host without onnxruntime-node's CUDA provider, like this one — a clear error before anything runs.
import { mkdtemp, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/index";
import { compileGraph, type ModelGraph } from "../graph/index";
import { makeShapesImageFolder } from "../data/testing/shapes";
import { train } from "../train/loop";
import { zooGraph } from "../zoo/index";
import { createOrtSession, cudaProviderMissing, GPU_EXTRAS_INSTALL, OrtUnavailableError, sessionOptions } from "./session";
import { weightInfos } from "./testing/parity";
import { buildTrainingGraph, providerForms, type WeightInfo } from "./train-graph";

const missing = cudaProviderMissing();

beforeAll(async () => {
  await initBackend("wasm");
});

describe("ONNX Runtime on CUDA", () => {
  it("runs sessions on the CUDA execution provider of the GPU asked for, CPU for what CUDA lacks", () => {
    expect(sessionOptions({ provider: "cuda", deviceId: 3 }).executionProviders).toEqual([{ name: "cuda", deviceId: 3 }, "cpu"]);
    expect(sessionOptions({ provider: "cpu", deviceId: 0 }).executionProviders).toEqual(["cpu"]);
  });

  it("writes CUDA graphs with ConvTranspose input gradients and large-GEMM filter gradients only", () => {
    const request = {
      graph: zooGraph("resnet18", { imgsz: 32, numClasses: 3, width: 0.25 }),
      inputShape: [32, 32, 3] as [number, number, number],
      batch: 2,
      loss: { kind: "classify" as const, numClasses: 3, probabilities: false },
    };
    const weights = buildWeights(request.graph);
    const cuda = buildTrainingGraph({ ...request, weights, provider: "cuda" });
    const cpu = buildTrainingGraph({ ...request, weights, provider: "cpu" });
    for (const point of cuda.points) {
      if (point.kind === "conv-dx") expect(point.candidates).toEqual(["convT"]);
      if (point.kind === "conv-dw") expect(point.candidates).toEqual(["im2col", "gemm", "conv"]);
    }
    expect(cpu.points.some((p) => p.kind === "conv-dx" && p.candidates.includes("flip"))).toBe(true);
    expect(providerForms("conv-dw", ["depthwise_tap", "depthwise_conv"], "cuda")).toEqual(["depthwise_conv"]);
    expect(providerForms("maxpool", ["unpool", "s2d"], "cuda")).toEqual(["unpool", "s2d"]);
  });

  it.runIf(missing !== null)("without the CUDA provider: sessions, the device and train() refuse with what to install", async () => {
    expect(missing).toContain(GPU_EXTRAS_INSTALL);
    const io = buildTrainingGraph({
      graph: zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 }),
      inputShape: [32, 32, 3],
      batch: 1,
      weights: buildWeights(zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 })),
      loss: { kind: "classify", numClasses: 3, probabilities: false },
    });
    const session = createOrtSession(io.bytes, { provider: "cuda", deviceId: 0 });
    await expect(session).rejects.toBeInstanceOf(OrtUnavailableError);
    await expect(session).rejects.toThrow(/CUDA execution provider is not installed .*GPU extras/);
    await expect(initBackend("ort:cuda:1")).rejects.toThrow(/^device "ort:cuda:1" is not available: ONNX Runtime's CUDA execution provider is not installed/);
    const root = await mkdtemp(path.join(os.tmpdir(), "ort-cuda-"));
    await makeShapesImageFolder(path.join(root, "data"), { classes: 2, perClass: 4, size: 16, seed: 1 });
    await expect(train({ data: path.join(root, "data"), model: "reference-cnn", imgsz: 32, epochs: 1, device: "ort:cuda:0", runsDir: path.join(root, "runs") })).rejects.toThrow(
      /device "ort:cuda:0" is not available: .*npm install --onnxruntime-node-install=cuda12/,
    );
    // Refused before the run folder exists.
    await expect(stat(path.join(root, "runs"))).rejects.toThrow(/ENOENT/);
  });
});

/** Weight names and shapes of a graph as the TF.js model has them. */
function buildWeights(graph: ModelGraph): WeightInfo[] {
  const model = compileGraph(graph, { inputShape: [32, 32, 3] });
  const infos = weightInfos(model);
  model.dispose();
  return infos;
}
