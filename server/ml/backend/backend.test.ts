import { describe, it, expect } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { availableDevices, initBackend, parseDevice } from "./index";
import { buildCoverageModel, coverageTrainingStep, kernelsMissingOn } from "./gradient-coverage";

describe("parseDevice", () => {
  it.each([
    ["auto", "auto"],
    ["CPU", "cpu"],
    ["wasm", "wasm"],
    ["gpu", "gpu"],
    ["cuda:1", "cuda:1"],
    ["0", "cuda:0"],
  ])("reads %s as %s", (text, device) => {
    expect(parseDevice(text)).toBe(device);
  });

  it("names the bad value and the allowed ones", () => {
    expect(() => parseDevice("tpu")).toThrow(/"tpu".*auto, cpu, wasm, gpu or cuda:N/);
  });
});

describe("initBackend", () => {
  it("selects WASM with our kernels, idempotently", async () => {
    const first = await initBackend("wasm");
    const second = await initBackend("wasm");
    expect(second).toEqual(first);
    expect(first).toMatchObject({ device: "wasm", backend: "wasm", threads: 1 });
    expect(first.description).toMatch(/^wasm \(SIMD, 1 thread, custom gradient kernels\)$/);
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeDefined();
  });

  it("refuses a GPU it does not have instead of falling back", async () => {
    await expect(initBackend("gpu")).rejects.toThrow(/device "gpu" is not available: (@tensorflow\/tfjs-node-gpu is not installed|no NVIDIA GPU visible)/);
    await expect(initBackend("cuda:3")).rejects.toThrow(/device "cuda:3" is not available/);
  });

  it("lists auto, cpu and wasm among the available devices", async () => {
    const devices = await availableDevices();
    expect(devices.map((d) => d.device)).toEqual(expect.arrayContaining(["auto", "cpu", "wasm"]));
    const auto = devices.find((d) => d.device === "auto")!;
    // ONNX Runtime is a dependency: only libtensorflow with CUDA ranks above it.
    expect(["tensorflow-gpu", "ort"]).toContain(auto.backend);
  });
});

describe("training on WASM", () => {
  it("has every kernel the zoo's layer types need for training", async () => {
    await initBackend("wasm");
    expect(await kernelsMissingOn("wasm")).toEqual([]);
  });

  it("trains a small conv net: the loss falls", async () => {
    await initBackend("wasm");
    const model = buildCoverageModel();
    const optimizer = tf.train.adam(0.01);
    const x = tf.randomUniform([8, 16, 16, 3], 0, 1, "float32", 3) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32"), 3).toFloat() as tf.Tensor2D;
    const losses = Array.from({ length: 40 }, () => coverageTrainingStep(model, optimizer, x, labels));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses[0] * 0.5);
    tf.dispose([x, labels]);
    model.dispose();
  });
});
