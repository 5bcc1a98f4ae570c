import { describe, it, expect, beforeAll } from "vitest";
import { mkdir, mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { initBackend } from "../backend/index";
import { makeShapesImageFolder } from "../data/testing/shapes";
import { writeShapesDataset } from "../detect/testing/shapes-dataset";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import type { ModelGraph } from "../graph/index";
import { readCheckpointHeader } from "./checkpoint";
import { train, type TrainEvent, type TrainResult } from "./loop";
import type { TrainConfigInput } from "./config";

/** The reference CNN of MEASUREMENTS.md as a graph: 3 convs 16/32/64, GAP, dense logits. */
function referenceCnn(classes: number): ModelGraph {
  const chain = [
    { id: "input", type: "Input" },
    { id: "conv1", type: "Conv2d", data: { filters: 16, kernel_size: 3, activation: "relu" } },
    { id: "pool1", type: "MaxPool", data: { kernel_size: 2 } },
    { id: "conv2", type: "Conv2d", data: { filters: 32, kernel_size: 3, activation: "relu" } },
    { id: "pool2", type: "MaxPool", data: { kernel_size: 2 } },
    { id: "conv3", type: "Conv2d", data: { filters: 64, kernel_size: 3, activation: "relu" } },
    { id: "gap", type: "GlobalAvgPool" },
    { id: "head", type: "Dense", data: { units: classes } },
  ];
  return { nodes: chain, edges: chain.slice(1).map((node, i) => ({ source: chain[i].id, target: node.id })) };
}

/** A residual block: conv → conv, added back onto the block's input. */
function skipGraph(classes: number): ModelGraph {
  return {
    nodes: [
      { id: "input", type: "Input" },
      { id: "stem", type: "Conv2d", data: { filters: 8, kernel_size: 3, stride: 2, activation: "relu" } },
      { id: "a", type: "Conv2d", data: { filters: 8, kernel_size: 3, activation: "relu" } },
      { id: "b", type: "Conv2d", data: { filters: 8, kernel_size: 3 } },
      { id: "skip", type: "Add" },
      { id: "gap", type: "GlobalAvgPool" },
      { id: "head", type: "Dense", data: { units: classes } },
    ],
    edges: [
      { source: "input", target: "stem" },
      { source: "stem", target: "a" },
      { source: "a", target: "b" },
      { source: "b", target: "skip" },
      { source: "stem", target: "skip" },
      { source: "skip", target: "gap" },
      { source: "gap", target: "head" },
    ],
  };
}

let data: string;
let runsDir: string;

beforeAll(async () => {
  await initBackend("auto");
  const root = await mkdtemp(path.join(os.tmpdir(), "loop-test-"));
  data = path.join(root, "shapes");
  runsDir = path.join(root, "runs");
  await makeShapesImageFolder(data, { classes: 3, perClass: 60, size: 32, seed: 3 });
});

const base = (overrides: Partial<TrainConfigInput>): TrainConfigInput => ({
  data,
  model: referenceCnn(3),
  imgsz: 32,
  batch: 16,
  optimizer: "Adam",
  lr0: 0.005,
  warmup_epochs: 0,
  runsDir,
  project: "test",
  log_every: 1,
  ...overrides,
});

async function run(config: TrainConfigInput, control?: (events: TrainEvent[]) => "continue" | "stop" | "pause"): Promise<{ result: TrainResult; events: TrainEvent[] }> {
  const events: TrainEvent[] = [];
  const result = await train(config, { onEvent: (e) => void events.push(e), control: control && (() => control(events)) });
  return { result, events };
}

const epochEnds = (events: TrainEvent[]) => events.filter((e): e is Extract<TrainEvent, { type: "epoch_end" }> => e.type === "epoch_end");
const logs = (events: TrainEvent[]) => events.flatMap((e) => (e.type === "log" ? [e.message] : []));

describe("training loop (classification)", () => {
  it("learns: the reference CNN separates generated shapes (val_acc ≥ 0.9)", async () => {
    // Adam at lr0 0.01 (β1 0.9): the plain reference CNN leaves its initial plateau after ~10 epochs here.
    const { result, events } = await run(base({ name: "learn", model: "reference-cnn", epochs: 30, patience: 30, lr0: 0.01, momentum: 0.9, lrf: 0.1 }));
    const ends = epochEnds(events);
    expect(result.status).toBe("completed");
    expect(result.bestFitness).toBeGreaterThanOrEqual(0.9);
    expect(ends.at(-1)!.metrics.train_loss).toBeLessThan(ends[0].metrics.train_loss);

    // The first event says which backend trains.
    expect(events[0]).toMatchObject({ type: "start", backend: { backend: expect.any(String) }, classNames: ["circle", "square", "triangle"] });
    const metrics = ends.at(-1)!.metrics;
    for (const key of ["train_loss", "train_acc", "val_loss", "val_acc", "top1_acc", "top3_acc", "top5_acc", "macro_f1", "micro_f1", "learning_rate", "best_acc", "epoch_seconds", "images_per_sec"]) {
      expect(metrics[key], key).toBeTypeOf("number");
    }
    const validation = events.find((e) => e.type === "validation");
    expect(validation && validation.type === "validation" && validation.details).toMatchObject({ classNames: ["circle", "square", "triangle"] });

    // The old metrics API's log formats.
    const lines = logs(events);
    expect(lines).toContain("Epoch [3/30] started");
    expect(lines.some((l) => /^Train Loss: \d+\.\d{4}, Train Accuracy: \d+\.\d{2}%$/.test(l))).toBe(true);
    expect(lines.some((l) => /^Validation Loss: \d+\.\d{4}, Validation Accuracy: \d+\.\d{2}%$/.test(l))).toBe(true);
    expect(lines.some((l) => /^Validation macro_F1: \d\.\d{4}$/.test(l))).toBe(true);
    expect(lines.some((l) => /^Validation Top-k Accuracy: \{'top1': [\d.]+, 'top3': [\d.]+, 'top5': [\d.]+\}$/.test(l))).toBe(true);
    expect(lines.some((l) => /^New best model saved with Accuracy: \d+\.\d{2}%$/.test(l))).toBe(true);

    // The run folder.
    expect((await readdir(result.runDir)).sort()).toEqual(["args.json", "plots", "results.csv", "weights"]);
    expect((await readdir(path.join(result.runDir, "plots"))).sort()).toEqual(["confusion_matrix.png", "confusion_matrix_normalized.png", "results.png"]);
    for (const name of ["results.png", "confusion_matrix.png"]) {
      expect(await sharp(path.join(result.runDir, "plots", name)).metadata(), name).toMatchObject({ format: "png", width: expect.any(Number) });
    }
    // Redrawn at most every 2 s, but always after the last epoch.
    const mtime = async (file: string) => (await stat(path.join(result.runDir, file))).mtimeMs;
    expect(await mtime("plots/results.png")).toBeGreaterThanOrEqual(await mtime("results.csv"));
    const csv = (await readFile(path.join(result.runDir, "results.csv"), "utf8")).trim().split("\n");
    expect(csv[0]).toBe("epoch,train/loss,train/acc,val/loss,metrics/accuracy_top1,metrics/accuracy_top3,metrics/accuracy_top5,metrics/macro_f1,metrics/micro_f1,lr/pg0,time");
    expect(csv).toHaveLength(31);
    const best = await readCheckpointHeader(result.bestCheckpoint);
    expect(best.metrics?.top1_acc).toBe(result.bestFitness);
    expect(JSON.parse(await readFile(path.join(result.runDir, "args.json"), "utf8"))).toMatchObject({ epochs: 30, imgsz: 32, data, model: "reference-cnn" });
  });

  it("trains a graph with a skip connection (loss falls) and keeps tensor memory flat", async () => {
    const counts: number[] = [];
    const events: TrainEvent[] = [];
    const result = await train(base({ name: "skip", model: skipGraph(3), epochs: 3, optimizer: "SGD", lr0: 0.05 }), {
      onEvent: (e) => {
        events.push(e);
        if (e.type === "epoch_end") counts.push(tf.memory().numTensors);
      },
    });
    expect(result.status).toBe("completed");
    const ends = epochEnds(events);
    expect(ends[2].metrics.train_loss).toBeLessThan(ends[0].metrics.train_loss);
    expect(new Set(counts).size).toBe(1);
  });

  it("resumes to the same per-epoch metrics as an uninterrupted run (stop at an epoch boundary, pause mid-epoch)", async () => {
    const config = base({ epochs: 3, optimizer: "AdamW", lr0: 0.003, warmup_epochs: 1, cos_lr: true });
    const whole = await run({ ...config, name: "whole" });

    // Stop once epoch 1 has ended.
    const first = await run({ ...config, name: "parts" }, (events) => (epochEnds(events).length === 1 ? "stop" : "continue"));
    expect(first.result.status).toBe("stopped");
    expect(first.events.some((e) => e.type === "stopped")).toBe(true);
    // Resume, then pause after the 4th step of epoch 2.
    const stepsInEpoch2 = (events: TrainEvent[]) => events.filter((e) => e.type === "step" && e.epoch === 2).length;
    const second = await run({ ...config, name: "parts", resume: true }, (events) => (stepsInEpoch2(events) === 4 ? "pause" : "continue"));
    expect(second.result.status).toBe("paused");
    expect(second.result.epochsCompleted).toBe(1);
    const third = await run({ ...config, name: "parts", resume: true });
    expect(third.result.status).toBe("completed");
    expect(third.result.runDir).toBe(first.result.runDir);

    const resumed = [...epochEnds(first.events), ...epochEnds(third.events)];
    const reference = epochEnds(whole.events);
    expect(resumed.map((e) => e.epoch)).toEqual([1, 2, 3]);
    for (const [i, ref] of reference.entries()) {
      for (const key of ["train_loss", "train_acc", "val_loss", "val_acc", "learning_rate", "macro_f1"]) {
        expect(resumed[i].metrics[key], `epoch ${i + 1} ${key}`).toBeCloseTo(ref.metrics[key], 5);
      }
    }
    const csv = (await readFile(path.join(first.result.runDir, "results.csv"), "utf8")).trim().split("\n");
    expect(csv.map((line) => line.split(",")[0])).toEqual(["epoch", "1", "2", "3"]);
  });

  it("trains on two threads to the per-epoch metrics of one thread (the shares' gradients add up to the batch's)", async () => {
    // Data-parallel threads are TF.js's (auto would train the one-thread run on ONNX Runtime).
    const config = base({ epochs: 2, optimizer: "SGD", lr0: 0.05, momentum: 0.9, device: "wasm" });
    const one = await run({ ...config, name: "one-thread", workers: 1 });
    const two = await run({ ...config, name: "two-threads", workers: 2 });
    expect(one.events[0]).toMatchObject({ type: "start", backend: { threads: 1 } });
    expect(two.events[0]).toMatchObject({ type: "start", backend: { backend: "wasm", threads: 2, description: expect.stringMatching(/^wasm \(SIMD, 2 data-parallel threads, /) } });
    const reference = epochEnds(one.events);
    const parallel = epochEnds(two.events);
    expect(parallel).toHaveLength(2);
    for (const [i, ref] of reference.entries()) {
      for (const key of ["train_loss", "train_acc", "val_loss", "val_acc", "learning_rate"]) {
        expect(parallel[i].metrics[key], `epoch ${i + 1} ${key}`).toBeCloseTo(ref.metrics[key], 3);
      }
    }
    // Training moved the metrics: equal metrics do not come from an untrained model.
    expect(reference[1].metrics.train_loss).toBeLessThan(reference[0].metrics.train_loss);
  });

  it("learns on two threads with BatchNorm like on one (each thread normalises by its share's statistics)", async () => {
    const chain = [
      { id: "input", type: "Input" },
      { id: "conv1", type: "Conv2d", data: { filters: 8, kernel_size: 3, stride: 2 } },
      { id: "bn1", type: "BatchNorm" },
      { id: "relu1", type: "ReLU" },
      { id: "conv2", type: "Conv2d", data: { filters: 16, kernel_size: 3, stride: 2 } },
      { id: "bn2", type: "BatchNorm" },
      { id: "relu2", type: "ReLU" },
      { id: "gap", type: "GlobalAvgPool" },
      { id: "head", type: "Dense", data: { units: 3 } },
    ];
    const graph: ModelGraph = { nodes: chain, edges: chain.slice(1).map((node, i) => ({ source: chain[i].id, target: node.id })) };
    const config = base({ model: graph, epochs: 4, optimizer: "Adam", lr0: 0.01, momentum: 0.9, device: "wasm" });
    const one = epochEnds((await run({ ...config, name: "bn-one-thread", workers: 1 })).events);
    const two = epochEnds((await run({ ...config, name: "bn-two-threads", workers: 2 })).events);
    for (const ends of [one, two]) {
      expect(ends.at(-1)!.metrics.train_loss).toBeLessThan(ends[0].metrics.train_loss);
      // Validation uses the main thread's weights, with the moving statistics averaged over the threads.
      expect(ends.at(-1)!.metrics.val_loss).toBeLessThan(ends[0].metrics.val_loss);
    }
    expect(Math.abs(two.at(-1)!.metrics.train_loss - one.at(-1)!.metrics.train_loss)).toBeLessThan(0.1);
  });

  it("raises epochs on resume of a finished run, and refuses resuming a finished run without", async () => {
    const config = base({ epochs: 1, name: "extend" });
    await run(config);
    await expect(run({ ...config, resume: true })).rejects.toThrow(/already trained 1 of 1 epochs; pass epochs > 1/);
    const more = await run({ ...config, resume: true, epochs: 2 });
    expect(epochEnds(more.events).map((e) => e.epoch)).toEqual([2]);
  });

  it("stops early when fitness does not improve for `patience` epochs", async () => {
    const { result, events } = await run(base({ name: "early", epochs: 6, patience: 2, lr0: 1e-9 }));
    expect(result.status).toBe("completed");
    expect(result.stoppedEarly).toBe(true);
    expect(result.epochsCompleted).toBe(3);
    expect(result.bestEpoch).toBe(1);
    expect(logs(events).some((l) => l.startsWith("Stopping training early as no improvement observed in last 2 epochs"))).toBe(true);
  });

  it("fine-tunes from an earlier run: matching layers load, a head for other classes is re-initialised", async () => {
    const source = await run(base({ name: "source", epochs: 1 }));
    const twoClasses = path.join(path.dirname(data), "two");
    await makeShapesImageFolder(twoClasses, { classes: 2, perClass: 10, size: 32, seed: 9 });
    const { events } = await run(base({ name: "finetune", data: twoClasses, model: referenceCnn(2), epochs: 1, pretrained: source.result.runDir }));
    const lines = logs(events);
    expect(lines).toContain(`Transferred 6/8 tensors from pretrained weights ${source.result.bestCheckpoint}`);
    expect(lines).toContain("Head re-initialised (head): the weights' classes (3: circle, square, triangle) differ from the dataset's (2: circle, square)");
  });

  it("logs a plot it cannot write and trains on", async () => {
    // A file where the plots folder belongs makes every plot fail.
    await mkdir(path.join(runsDir, "test", "no-plots"), { recursive: true });
    await writeFile(path.join(runsDir, "test", "no-plots", "plots"), "not a folder");
    const { result, events } = await run(base({ name: "no-plots", exist_ok: true, epochs: 1 }));
    expect(result.status).toBe("completed");
    const warnings = events.filter((e) => e.type === "log" && e.level === "warn").map((e) => (e.type === "log" ? e.message : ""));
    expect(warnings.some((m) => m.startsWith(`Could not write plots to ${path.join(result.runDir, "plots")}`))).toBe(true);
  });

  it("names what is wrong in bad inputs", async () => {
    const root = path.dirname(data);
    await expect(run(base({ name: "bad", data: path.join(root, "missing") }))).rejects.toThrow(/dataset folder not found: .*missing/);
    const empty = path.join(root, "empty");
    await mkdir(path.join(empty, "cats"), { recursive: true });
    await mkdir(path.join(empty, "dogs"), { recursive: true });
    await expect(run(base({ name: "bad", data: empty }))).rejects.toThrow(/no images found in .*empty/);
    const single = path.join(root, "single");
    await makeShapesImageFolder(single, { classes: 1, perClass: 5, size: 32, layout: "flat" });
    await expect(run(base({ name: "bad", data: single }))).rejects.toThrow(/at least 2 classes.*circle/);
    await expect(run(base({ name: "bad", imgsz: 16 }))).rejects.toThrow("imgsz must be ≥ 32");
    const broken = referenceCnn(3);
    broken.edges.push({ source: "nowhere", target: "head" });
    await expect(run(base({ name: "bad", model: broken }))).rejects.toThrow(/nowhere/);
    await expect(run(base({ name: "bad", model: referenceCnn(5) }))).rejects.toThrow(/does not fit 3 classes \(circle, square, triangle\)/);
    // Failed starts leave no run folders behind.
    expect((await readdir(path.join(runsDir, "test"))).filter((name) => name.startsWith("bad"))).toEqual([]);

    // Resuming with a dataset whose classes differ from the checkpoint's.
    const stopped = await run(base({ name: "classes", epochs: 2 }), () => "stop");
    expect(stopped.result.status).toBe("stopped");
    const other = path.join(root, "other");
    await makeShapesImageFolder(other, { classes: 4, perClass: 5, size: 32 });
    await expect(run(base({ name: "classes", resume: true, data: other }))).rejects.toThrow(
      /dataset classes \[circle, cross, square, triangle\] differ from the checkpoint's classes \[circle, square, triangle\]/,
    );
    const header = await readCheckpointHeader(stopped.result.lastCheckpoint);
    expect(header.progress).toMatchObject({ epoch: 1, step: 0 });
  });
});

describe("training loop (detection plots)", () => {
  it("writes the confusion matrices and PR/F1/P/R curves of the best validation, and logs its per-class table at the end", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "loop-detect-"));
    await writeShapesDataset(path.join(root, "data"), { train: 4, val: 4, seed: 2, classes: 2 });
    const logs: string[] = [];
    const result = await train(
      {
        task: "detect",
        data: path.join(root, "data"),
        model: yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.25 }),
        imgsz: 64,
        epochs: 1,
        batch: 4,
        mosaic: 0,
        runsDir: path.join(root, "runs"),
      },
      { onEvent: (e) => void (e.type === "log" && logs.push(e.message)) },
    );
    expect(result.status).toBe("completed");
    // Ultralytics' closing table: header, "all", then the classes with labels; the last line stays the completion.
    const header = logs.findIndex((line) => /^\s+Class\s+Images\s+Instances\s+Box\(P\s+R\s+mAP50\s+mAP50-95\)$/.test(line));
    expect(logs[header - 1]).toBe("Validation of the best epoch (1):");
    expect(logs[header + 1]).toMatch(/^\s+all\s+4\s+\d+(\s+[\d.]+){4}$/);
    expect(logs.at(-1)).toMatch(/^Training completed/);
    expect((await readdir(path.join(result.runDir, "plots"))).sort()).toEqual([
      "F1_curve.png",
      "PR_curve.png",
      "P_curve.png",
      "R_curve.png",
      "confusion_matrix.png",
      "confusion_matrix_normalized.png",
      "results.png",
    ]);
  });
});
