// Selecting the ort backend: device names, what initBackend reports, the CUDA provider's absence, and
// the fallback to TF.js for a model with a layer type that has no training emitters.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { availableDevices, capabilitiesOf, initBackend, parseDevice, tfjsBackendOf } from "../backend/index";
import { compileGraph, type ModelGraph } from "../graph/index";
import { CLASSIFY_REPLICA_MODULE, replicaInput, sliceBatch } from "../train/classify-loss";
import { resolveTrainingBackend } from "../train/stepper";
import { zooGraph } from "../zoo/index";
import { cudaProviderMissing, GPU_EXTRAS_INSTALL } from "./session";

const adapter = {
  dataParallel: {
    replicaTask: () => ({ module: CLASSIFY_REPLICA_MODULE, options: { numClasses: 3, labelSmoothing: 0, probabilities: false } }),
    slice: sliceBatch,
    replicaInput,
  },
};

beforeAll(async () => {
  await initBackend("wasm");
});

describe("device ort", () => {
  it.each([
    ["ort", "ort"],
    ["ORT:CPU", "ort:cpu"],
    ["ort:cuda:1", "ort:cuda:1"],
  ])("parses %s as %s", (text, device) => {
    expect(parseDevice(text)).toBe(device);
  });

  it("lists ort among the devices and in the error for an unknown one", async () => {
    expect(() => parseDevice("ort:tpu")).toThrow(/ort, ort:cpu or ort:cuda:N/);
    const devices = await availableDevices();
    expect(devices.find((d) => d.device === "ort")).toMatchObject({ backend: "ort", description: expect.stringMatching(/^ort \(ONNX Runtime/) });
    // No GPU here: auto picks ONNX Runtime, the fastest engine present.
    expect(devices.find((d) => d.device === "auto")!.backend).toBe("ort");
  });

  it("auto trains on ONNX Runtime and keeps TF.js for tensors; workers > 1 or an unsupported model train on TF.js, saying why", async () => {
    const auto = await initBackend("auto");
    expect(auto).toMatchObject({ device: "auto", backend: "ort", companion: { backend: expect.any(String) } });
    expect(capabilitiesOf(auto)).toMatchObject({ stepper: "onnx-graphs", trainsAnyModel: false, dataParallel: false });
    expect(tfjsBackendOf(auto)).toBe(auto.companion!.backend);
    expect(tf.getBackend()).toBe(auto.companion!.backend);
    const graph = zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 });
    const model = compileGraph(graph, { inputShape: [32, 32, 3] });
    const logs: string[] = [];
    const opts = { model, graph, inputShape: [32, 32, 3] as [number, number, number], adapter, log: (m: string) => logs.push(m) };
    expect(resolveTrainingBackend(auto, { ...opts, workers: "auto" })).toBe(auto);
    expect(resolveTrainingBackend(auto, { ...opts, workers: 1 })).toBe(auto);
    expect(logs).toEqual([]);
    expect(resolveTrainingBackend(auto, { ...opts, workers: 2 })).toBe(auto.companion);
    expect(logs).toEqual([`workers: 2 data-parallel threads run on TF.js (ONNX Runtime uses every core itself). Training on TF.js: ${auto.companion!.description}`]);
    // An explicit ort device keeps ort (resolveWorkers then refuses the threads, naming the setting).
    const ortInfo = await initBackend("ort");
    expect(resolveTrainingBackend(ortInfo, { ...opts, workers: 2 })).toBe(ortInfo);
    model.dispose();
  });

  it("initialises ONNX Runtime on the CPU with a TF.js backend beside it", async () => {
    const info = await initBackend("ort");
    expect(info).toMatchObject({ device: "ort", backend: "ort", ort: { provider: "cpu", deviceId: 0 }, companion: { backend: expect.any(String) } });
    expect(info.description).toMatch(/^ort \(ONNX Runtime \d+\.\d+\.\d+, CPU execution provider, \d+ intra-op threads?, forward \+ loss \+ backward as ONNX graphs; TF\.js \w+ beside it\)$/);
    expect(tf.getBackend()).toBe(info.companion!.backend === "tensorflow-gpu" ? "tensorflow" : info.companion!.backend);
  });

  it("ort:cuda:N asks for the CUDA provider and names the GPU extras when it is not installed", async () => {
    const missing = cudaProviderMissing();
    if (missing === null) return; // a GPU host with the provider installed: nothing to refuse
    expect(missing).toContain(GPU_EXTRAS_INSTALL);
    expect(missing).toMatch(/GPU extras/);
    await expect(initBackend("ort:cuda:0")).rejects.toThrow(/device "ort:cuda:0" is not available: ONNX Runtime's CUDA execution provider is not installed .*npm install --onnxruntime-node-install=cuda12/);
  });

  it("trains a model it has emitters for on ort; one with a layer type without emitters on TF.js, saying why", async () => {
    const info = await initBackend("ort");
    const supported = zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 });
    const unsupported: ModelGraph = {
      nodes: [
        { id: "input", type: "Input" },
        { id: "conv", type: "Conv2d", data: { filters: 4, kernel_size: 3 } },
        { id: "softmax", type: "Softmax" },
        { id: "gap", type: "GlobalAvgPool" },
        { id: "fc", type: "Dense", data: { units: 3 } },
      ],
      edges: [
        { source: "input", target: "conv" },
        { source: "conv", target: "softmax" },
        { source: "softmax", target: "gap" },
        { source: "gap", target: "fc" },
      ],
    };
    for (const [graph, expected] of [
      [supported, "ort"],
      [unsupported, info.companion!.backend],
    ] as const) {
      const model = compileGraph(graph, { inputShape: [32, 32, 3] });
      const logs: string[] = [];
      const chosen = resolveTrainingBackend(info, { model, graph, inputShape: [32, 32, 3], adapter, log: (m) => logs.push(m) });
      expect(chosen.backend).toBe(expected);
      if (expected === "ort") expect(logs).toEqual([]);
      else expect(logs).toEqual([`ONNX Runtime cannot train this model: node "softmax" (Softmax): Softmax over images has no training graph yet. Training on TF.js instead: ${info.companion!.description}`]);
      model.dispose();
    }
  });
});
