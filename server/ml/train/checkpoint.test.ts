import { describe, it, expect, beforeAll } from "vitest";
import { mkdtemp, mkdir, readdir, readFile, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { compileGraph, type ModelGraph } from "../graph/index";
import {
  CheckpointError,
  disposeContents,
  loadCheckpointModel,
  readCheckpoint,
  readCheckpointHeader,
  resolveCheckpointPath,
  saveCheckpoint,
  transferWeights,
  writeFileAtomic,
  type TrainProgress,
} from "./checkpoint";
import { TrainOptimizer } from "./optimizers";
import { createRunFolder, ResultsCsv } from "./run-folder";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const tempDir = () => mkdtemp(path.join(os.tmpdir(), "ckpt-test-"));

function smallGraph(classes: number): ModelGraph {
  return {
    nodes: [
      { id: "input", type: "Input" },
      { id: "conv1", type: "Conv2d", data: { filters: 4, kernel_size: 3, activation: "relu" } },
      { id: "bn1", type: "BatchNorm" },
      { id: "gap", type: "GlobalAvgPool" },
      { id: "head", type: "Dense", data: { units: classes } },
    ],
    edges: [
      { source: "input", target: "conv1" },
      { source: "conv1", target: "bn1" },
      { source: "bn1", target: "gap" },
      { source: "gap", target: "head" },
    ],
  };
}

const progress: TrainProgress = { epoch: 3, step: 2, running: { loss: 1.5, seen: 8 }, trainSeconds: 1.25, bestFitness: 0.5, bestEpoch: 2 };

describe("checkpoints", () => {
  it("round-trips graph, weights, optimizer state and progress", async () => {
    const dir = await tempDir();
    const graph = smallGraph(3);
    const model = compileGraph(graph, { inputShape: [32, 32, 3], seed: 7 });
    const optimizer = new TrainOptimizer({ name: "AdamW", momentum: 0.9, nesterov: false, weightDecay: 0.01 });
    const trainable = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
    const grads = Object.fromEntries(trainable.map((t) => [t.variable.name, tf.onesLike(t.variable)]));
    optimizer.apply(grads, trainable, 0.01);
    tf.dispose(Object.values(grads));

    const file = path.join(dir, "last.ckpt");
    await saveCheckpoint(file, {
      model,
      task: "classify",
      classNames: ["a", "b", "c"],
      inputShape: [32, 32, 3],
      graph,
      optimizer: { state: optimizer.getState(), lr0: 0.001, momentum: 0.9 },
      progress,
      seed: 7,
      config: { epochs: 5 },
      metrics: { val_acc: 0.5 },
    });

    const contents = await readCheckpoint(file);
    expect(contents.header.classNames).toEqual(["a", "b", "c"]);
    expect(contents.header.progress).toEqual(progress);
    expect(contents.header.optimizer).toMatchObject({ name: "AdamW", step: 1, lr0: 0.001 });
    expect(contents.optimizer!.slots.map((s) => s.name).sort()).toEqual(trainable.flatMap((t) => [`${t.key}/m`, `${t.key}/v`]).sort());

    const restored = await loadCheckpointModel(contents);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, "float32", 1);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const actual = (restored.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    // BatchNorm moving statistics are weights too.
    expect(restored.weights.length).toBe(model.weights.length);
    disposeContents(contents);
    optimizer.dispose();
  });

  it("rebuilds models that have no graph from their topology", async () => {
    const dir = await tempDir();
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, name: "only" })] });
    const file = path.join(dir, "m.ckpt");
    await saveCheckpoint(file, { model, task: "classify", classNames: ["x", "y"], inputShape: [4, 1, 1], progress, seed: 0, config: {} });
    const contents = await readCheckpoint(file);
    const restored = await loadCheckpointModel(contents);
    expect(Array.from(restored.getWeights()[0].dataSync())).toEqual(Array.from(model.getWeights()[0].dataSync()));
    disposeContents(contents);
  });

  it("fine-tuning transfers matching weights and re-initialises a head of another size", async () => {
    const source = compileGraph(smallGraph(5), { inputShape: [32, 32, 3], seed: 1 });
    const target = compileGraph(smallGraph(2), { inputShape: [32, 32, 3], seed: 2 });
    const weights = Object.fromEntries(source.weights.map((w) => [w.originalName, w.read()]));
    const { loaded, skipped } = transferWeights(target, weights);
    expect(skipped.sort()).toEqual(["head/bias", "head/kernel"]);
    expect(loaded).toContain("conv1/kernel");
    const conv = target.weights.find((w) => w.originalName === "conv1/kernel")!;
    expect(Array.from(conv.read().dataSync())).toEqual(Array.from(weights["conv1/kernel"].dataSync()));
  });

  it("rejects files that are not checkpoints or are truncated, naming the file", async () => {
    const dir = await tempDir();
    const junk = path.join(dir, "junk.ckpt");
    await writeFile(junk, "hello world, not a checkpoint");
    await expect(readCheckpoint(junk)).rejects.toThrow(/junk\.ckpt is not a studio checkpoint/);

    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    const good = path.join(dir, "good.ckpt");
    await saveCheckpoint(good, { model, task: "classify", classNames: ["x", "y"], inputShape: [4, 1, 1], progress, seed: 0, config: {} });
    const bytes = await readFile(good);
    const cut = path.join(dir, "cut.ckpt");
    await writeFile(cut, bytes.subarray(0, bytes.length - 3));
    await expect(readCheckpoint(cut)).rejects.toThrow(/cut\.ckpt is truncated or corrupt/);
    await expect(readCheckpointHeader(cut)).rejects.toThrow(/cut\.ckpt is truncated or corrupt/);
    await expect(readCheckpointHeader(junk)).rejects.toThrow(/junk\.ckpt is not a studio checkpoint/);
    const tiny = path.join(dir, "tiny.ckpt");
    await writeFile(tiny, "TFS");
    await expect(readCheckpointHeader(tiny)).rejects.toThrow(/tiny\.ckpt is not a studio checkpoint/);
    const lying = path.join(dir, "lying.ckpt");
    const header = Buffer.from(bytes);
    header.writeUInt32LE(0xfffffff0, 8);
    await writeFile(lying, header);
    await expect(readCheckpointHeader(lying)).rejects.toThrow(/lying\.ckpt is truncated or corrupt: its header runs past the file's \d+ bytes/);
  });

  it("reads the header of a checkpoint far larger than memory without reading its weights", async () => {
    const dir = await tempDir();
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    const file = path.join(dir, "huge.ckpt");
    await saveCheckpoint(file, { model, task: "classify", classNames: ["x", "y"], inputShape: [4, 1, 1], progress, seed: 0, config: {} });
    const saved = await readCheckpointHeader(file);
    // The same header declaring 6 GB of weights, the file extended to that size (sparse: nothing is written).
    const header = Buffer.from(JSON.stringify({ ...saved, weightBytes: 6 * 1024 ** 3 }));
    const prefix = Buffer.concat([Buffer.from("TFSCKPT1"), Buffer.alloc(4), header]);
    prefix.writeUInt32LE(header.byteLength, 8);
    await writeFile(file, prefix);
    await truncate(file, prefix.byteLength + 6 * 1024 ** 3);
    expect(await readCheckpointHeader(file)).toEqual({ ...saved, weightBytes: 6 * 1024 ** 3 });
    await expect(readCheckpoint(file)).rejects.toThrow(/cannot read checkpoint .*huge\.ckpt/);
  });

  it("resolves run folders and extensionless paths to checkpoint files", async () => {
    const runsDir = await tempDir();
    const folder = await createRunFolder({ runsDir, project: "p", name: "exp" });
    await writeFile(folder.lastCheckpoint, "x");
    expect(await resolveCheckpointPath(folder.dir)).toBe(folder.lastCheckpoint);
    await writeFile(folder.bestCheckpoint, "x");
    expect(await resolveCheckpointPath(folder.dir)).toBe(folder.bestCheckpoint);
    expect(await resolveCheckpointPath(path.join(folder.weightsDir, "best"))).toBe(folder.bestCheckpoint);
    await expect(resolveCheckpointPath(path.join(runsDir, "nope"))).rejects.toThrow(CheckpointError);
  });
});

describe("atomic writes", () => {
  it("leaves the old file intact and no temp file when writing fails midway", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "last.ckpt");
    await writeFile(file, "old contents");
    async function* failing() {
      yield Buffer.from("new partial data");
      throw new Error("disk full");
    }
    await expect(writeFileAtomic(file, failing())).rejects.toThrow("disk full");
    expect(await readFile(file, "utf8")).toBe("old contents");
    expect(await readdir(dir)).toEqual(["last.ckpt"]);
  });

  it("throws when the folder cannot be written and leaves the old file intact", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "missing-folder", "last.ckpt");
    await expect(writeFileAtomic(file, [Buffer.from("x")])).rejects.toThrow(/ENOENT/);
    // A folder in the way of the rename: the write fails and the temp file is cleaned up.
    const blocked = path.join(dir, "blocked.ckpt");
    await mkdir(blocked);
    await writeFile(path.join(blocked, "keep"), "old");
    await expect(writeFileAtomic(blocked, [Buffer.from("new")])).rejects.toThrow();
    expect(await readFile(path.join(blocked, "keep"), "utf8")).toBe("old");
    expect((await readdir(dir)).sort()).toEqual(["blocked.ckpt"]);
  });
});

describe("run folders", () => {
  it("numbers taken names like Ultralytics: exp, exp2, exp3", async () => {
    const runsDir = await tempDir();
    const names = [];
    for (let i = 0; i < 3; i++) names.push((await createRunFolder({ runsDir, project: "classify", name: "exp" })).name);
    expect(names).toEqual(["exp", "exp2", "exp3"]);
    expect((await createRunFolder({ runsDir, project: "classify", name: "exp", existOk: true })).name).toBe("exp");
  });

  it("writes results.csv with a header and one row per epoch, and truncates later epochs on resume", async () => {
    const runsDir = await tempDir();
    const folder = await createRunFolder({ runsDir, project: "p", name: "r" });
    const columns = ["epoch", "train/loss", "metrics/accuracy_top1", "lr/pg0"];
    const csv = ResultsCsv.create(folder.resultsFile, columns);
    for (const epoch of [1, 2, 3]) await csv.append({ epoch, "train/loss": 1 / epoch, "metrics/accuracy_top1": 0.5, "lr/pg0": 0.01 });
    expect((await readFile(folder.resultsFile, "utf8")).split("\n")[0]).toBe("epoch,train/loss,metrics/accuracy_top1,lr/pg0");
    const resumed = await ResultsCsv.resume(folder.resultsFile, columns, 3);
    await resumed.append({ epoch: 3, "train/loss": 0.25 });
    const lines = (await readFile(folder.resultsFile, "utf8")).trim().split("\n");
    expect(lines).toEqual(["epoch,train/loss,metrics/accuracy_top1,lr/pg0", "1,1,0.5,0.01", "2,0.5,0.5,0.01", "3,0.25,,"]);
  });
});
