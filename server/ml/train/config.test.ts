import { describe, it, expect } from "vitest";
import { effectiveWarmupEpochs, parseTrainConfig, resolveOptimizer, TrainConfigError } from "./config";

describe("training config", () => {
  it("fills Ultralytics-like defaults", () => {
    const config = parseTrainConfig({ data: "/d", model: "resnet18" });
    expect(config).toMatchObject({
      task: "classify",
      imgsz: 64,
      epochs: 100,
      batch: 16,
      optimizer: "auto",
      lr0: 0.01,
      lrf: 0.01,
      momentum: 0.937,
      nesterov: false,
      weight_decay: 0.0005,
      warmup_epochs: 3,
      cos_lr: false,
      label_smoothing: 0,
      patience: 100,
      save_period: -1,
      clip_grad: 10,
      seed: 0,
      device: "auto",
      workers: "auto",
      cache: false,
      val: true,
      mosaic: 1,
      close_mosaic: 10,
      project: "classify",
      name: "exp",
      runsDir: "runs",
      resume: false,
    });
    expect(parseTrainConfig({ data: "/d", model: "yolov8n", task: "detect" })).toMatchObject({ imgsz: 640, project: "detect" });
  });

  it("names the field in every error", () => {
    expect(() => parseTrainConfig({ data: "/d", model: "m", imgsz: 16 })).toThrow(TrainConfigError);
    expect(() => parseTrainConfig({ data: "/d", model: "m", imgsz: 16 })).toThrow("imgsz must be ≥ 32");
    expect(() => parseTrainConfig({ data: "/d", model: "m", optimizer: "Lion" })).toThrow(/optimizer must be one of auto, SGD, Adam, AdamW, RMSProp/);
    expect(() => parseTrainConfig({ data: "/d", model: "m", device: "tpu" })).toThrow(/device: unknown device "tpu"/);
    expect(() => parseTrainConfig({ data: "/d", model: "m", epochs: 0, batch: 2.5 })).toThrow(/epochs must be ≥ 1; batch must be an integer/);
    expect(() => parseTrainConfig({ model: "m" })).toThrow(/data must be a dataset folder path/);
    expect(() => parseTrainConfig({ data: "/d", model: { nodes: "x" } })).toThrow(/model must be a zoo model name or a graph/);
    expect(parseTrainConfig({ data: "/d", model: "m", workers: 2 }).workers).toBe(2);
    expect(() => parseTrainConfig({ data: "/d", model: "m", workers: 0 })).toThrow(/workers/);
    expect(() => parseTrainConfig({ data: "/d", model: "m", workers: "many" })).toThrow(/workers/);
  });

  it("auto picks AdamW with an lr fitted to the class count for short runs, SGD for long ones", () => {
    const config = parseTrainConfig({ data: "/d", model: "m" });
    expect(resolveOptimizer(config, 6, 1000)).toMatchObject({ name: "AdamW", lr0: 0.001, momentum: 0.9 }); // 0.002·5/(4+6)
    expect(resolveOptimizer(config, 10, 20_000)).toMatchObject({ name: "SGD", lr0: 0.01, momentum: 0.9 });
    expect(resolveOptimizer({ ...config, optimizer: "Adam", lr0: 0.003 }, 10, 5)).toMatchObject({ name: "Adam", lr0: 0.003, momentum: 0.937 });
  });

  it("scales warm-up down for runs of few epochs", () => {
    expect(effectiveWarmupEpochs({ warmup_epochs: 3, epochs: 100 })).toBe(3);
    expect(effectiveWarmupEpochs({ warmup_epochs: 3, epochs: 10 })).toBe(1);
    expect(effectiveWarmupEpochs({ warmup_epochs: 0, epochs: 10 })).toBe(0);
  });
});
