import { mkdir, mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileGraph } from "../graph/compile";
import "../graph/layers";
import "../detect/adapter";
import type { LoadedTensor } from "../io/torch-zip";
import { declareSize, renameInZip, zipBytes } from "../io/zip-testing";
import { zooGraph } from "../zoo";
import { resnet } from "../zoo/resnet";
import { saveCheckpoint } from "./checkpoint";
import { headLayers, loadPretrained, transferTorchCheckpoint } from "./pretrained";

const fixture = (name: string) => path.join(import.meta.dirname, "..", "io", "fixtures", name);

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** The zoo's resnet builder at the fixture's size: 1 block per stage, width 1/16 (zoo_resnet_fp16.pt, 3 classes). */
const smallResnet = (classes: number) => compileGraph(resnet([1, 1, 1, 1], classes, 1 / 16), { inputShape: [32, 32, 3], seed: 1 });

const values = (model: tf.LayersModel, layer: string) => model.getLayer(layer).getWeights().map((w) => Array.from(w.dataSync()));

describe("fine-tuning from a torchvision state dict (.pt)", () => {
  it("transfers every tensor when the classes fit", async () => {
    const model = smallResnet(3);
    const lines = await loadPretrained({ model, classNames: ["a", "b", "c"], zooModel: null }, fixture("zoo_resnet_fp16.pt"));
    expect(lines[0]).toMatch(/^Transferred (\d+)\/\1 tensors from pretrained weights .*zoo_resnet_fp16\.pt \(PyTorch, state_dict\)$/);
    expect(lines).toHaveLength(1);
    model.dispose();
  });

  it("leaves the head as initialised for another class count and says which tensors were not transferred", async () => {
    const model = smallResnet(2);
    const before = values(model, "fc");
    const stemBefore = values(model, "stem_conv");
    const lines = await loadPretrained({ model, classNames: ["a", "b"], zooModel: "resnet18" }, fixture("zoo_resnet_fp16.pt"));
    const [, total] = /^Transferred \d+\/(\d+)/.exec(lines[0])!;
    expect(lines[0]).toMatch(new RegExp(`^Transferred ${Number(total) - 2}/${total} tensors`));
    expect(lines).toContain("Not transferred (left as initialised): fc (fc.weight is [3, 32], the model needs [2, 32])");
    expect(lines).toContain("Not used from the file: fc.weight, fc.bias");
    expect(values(model, "fc")).toEqual(before);
    expect(values(model, "stem_conv")).not.toEqual(stemBefore);
    model.dispose();
  });
});

describe("fine-tuning from an Ultralytics checkpoint", () => {
  /** Ultralytics' yolov8n state dict (80 classes) by its shapes, every value 0.5. */
  async function yolov8nCheckpoint() {
    const shapes: Record<string, number[]> = JSON.parse(await readFile(fixture("yolov8n_state_dict_shapes.json"), "utf8"));
    const tensors = new Map<string, LoadedTensor>(
      Object.entries(shapes).map(([name, shape]) => {
        const count = shape.reduce((a, b) => a * b, 1);
        if (name.endsWith("num_batches_tracked")) return [name, { dtype: "int64", shape, data: new BigInt64Array(count) }];
        return [name, { dtype: "float32", shape, data: new Float32Array(count).fill(0.5) }];
      }),
    );
    const names = Array.from({ length: 80 }, (_, i) => `class${i}`);
    return { tensors, names, kind: "ultralytics" as const };
  }

  it("loads the backbone and box branch onto zoo yolov8n and re-initialises the class head for the dataset's classes", async () => {
    const model = compileGraph(zooGraph("yolov8n", { imgsz: 64, numClasses: 2 }), { inputShape: [64, 64, 3], seed: 1 });
    const headBefore = values(model, "detect_cls0_pred");
    const lines = transferTorchCheckpoint({ model, classNames: ["cat", "dog"], zooModel: "yolov8n" }, await yolov8nCheckpoint(), "yolov8n.pt");
    expect(lines[0]).toMatch(/^Transferred \d+\/\d+ tensors from pretrained weights yolov8n\.pt \(PyTorch, ultralytics\)$/);
    expect(lines).toContain(
      "Head re-initialised (detect_cls0_pred, detect_cls1_pred, detect_cls2_pred): the weights' classes (80: class0, class1, class2, class3, class4, class5, class6, class7, class8, class9, class10, class11, class12, class13, class14, class15, class16, class17, class18, class19 … and 60 more) differ from the dataset's (2: cat, dog)",
    );
    // nc=2 makes the class branch 64 wide instead of 80: its hidden convs do not fit either, and are named.
    expect(lines.find((line) => line.startsWith("Not transferred"))).toContain("detect_cls0_0 (model.22.cv3.0.0.conv.weight is [80, 64, 3, 3], the model needs [64, 64, 3, 3])");
    expect(values(model, "detect_cls0_pred")).toEqual(headBefore);
    expect(values(model, "detect_box0_pred")[1].every((v) => v === 0.5)).toBe(true);
    expect(values(model, "b0_conv")[0].every((v) => v === 0.5)).toBe(true);
    model.dispose();
  });

  it("finds a detector's class convolutions as its head, not its box convolutions", () => {
    const model = compileGraph(zooGraph("yolov8n", { imgsz: 64, numClasses: 3 }), { inputShape: [64, 64, 3] });
    expect(headLayers(model, 3).map((layer) => layer.name).sort()).toEqual(["detect_cls0_pred", "detect_cls1_pred", "detect_cls2_pred"]);
    model.dispose();
  });
});

describe("fine-tuning from a studio checkpoint (.ckpt)", () => {
  it("re-initialises the head when the class names differ, even at the same count", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pretrained-"));
    const file = path.join(dir, "source.ckpt");
    const source = smallResnet(2);
    await saveCheckpoint(file, {
      model: source,
      task: "classify",
      classNames: ["cat", "dog"],
      inputShape: [32, 32, 3],
      progress: { epoch: 2, step: 0, running: {}, trainSeconds: 0, bestFitness: null, bestEpoch: 1 },
      seed: 0,
      config: {},
    });
    const model = compileGraph(resnet([1, 1, 1, 1], 2, 1 / 16), { inputShape: [32, 32, 3], seed: 7 });
    const headBefore = values(model, "fc");
    const lines = await loadPretrained({ model, classNames: ["car", "bus"], zooModel: null }, file);
    expect(lines).toEqual([
      `Transferred ${model.weights.length - 2}/${model.weights.length} tensors from pretrained weights ${file}`,
      "Head re-initialised (fc): the weights' classes (2: cat, dog) differ from the dataset's (2: car, bus)",
    ]);
    expect(values(model, "fc")).toEqual(headBefore);
    expect(values(model, "stem_conv")).toEqual(values(source, "stem_conv"));
    source.dispose();
    model.dispose();
  });
});

describe("fine-tuning from a TF.js model (zip or folder)", () => {
  /** The TF.js files of a small resnet, as `model.save` writes them. */
  async function savedModel(source: tf.LayersModel): Promise<{ json: Record<string, unknown>; shard: Buffer }> {
    let saved: tf.io.ModelArtifacts | null = null;
    await source.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
    const artifacts = saved! as tf.io.ModelArtifacts;
    const shard = Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
    return { json: { format: "layers-model", modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: artifacts.weightSpecs }] }, shard };
  }

  const load = (file: string, classes = ["a", "b"]) => {
    const model = smallResnet(classes.length);
    return loadPretrained({ model, classNames: classes, zooModel: null }, file).finally(() => model.dispose());
  };

  it("loads a zipped model folder and an unzipped one", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pretrained-tfjs-"));
    const source = smallResnet(2);
    const { json, shard } = await savedModel(source);
    await writeFile(path.join(dir, "model.zip"), await zipBytes({ "model/model.json": JSON.stringify(json), "model/group1-shard1of1.bin": shard }, true));
    expect((await load(path.join(dir, "model.zip")))[0]).toBe(`Transferred ${source.weights.length}/${source.weights.length} tensors from pretrained weights ${path.join(dir, "model.zip")}`);
    await writeFile(path.join(dir, "model.json"), JSON.stringify(json));
    await writeFile(path.join(dir, "group1-shard1of1.bin"), shard);
    expect((await load(path.join(dir, "model.json")))[0]).toMatch(/^Transferred (\d+)\/\1 tensors/);
    source.dispose();
  });

  it("refuses shards named outside model.json's folder, in a zip or a folder (links included), naming them", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pretrained-tfjs-"));
    const secret = path.join(dir, "secret.bin");
    await writeFile(secret, Buffer.alloc(64, 9));
    const manifest = (shard: string) => JSON.stringify({ format: "layers-model", modelTopology: {}, weightsManifest: [{ paths: [shard], weights: [{ name: "fc/bias", shape: [2], dtype: "float32" }] }] });
    await writeFile(path.join(dir, "climb.zip"), await zipBytes({ "model/model.json": manifest("../secret.bin"), "secret.bin": Buffer.alloc(8) }));
    await expect(load(path.join(dir, "climb.zip"))).rejects.toThrow(/model\.json lists the weights file "\.\.\/secret\.bin", which is not a file beside it/);
    await mkdir(path.join(dir, "folder"));
    await writeFile(path.join(dir, "folder", "model.json"), manifest("../secret.bin"));
    await expect(load(path.join(dir, "folder", "model.json"))).rejects.toThrow(/which is not a file beside it/);
    await writeFile(path.join(dir, "folder", "model.json"), manifest("link.bin"));
    await symlink(secret, path.join(dir, "folder", "link.bin"));
    await expect(load(path.join(dir, "folder", "model.json"))).rejects.toThrow(/model\.json lists link\.bin, which leads outside its folder/);
  });

  it("refuses crafted archives: a climbing entry name, or more bytes than the caps, before reading them", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pretrained-tfjs-"));
    const files = { "model.json": "{}", "xx/x.bin": Buffer.alloc(8) };
    await writeFile(path.join(dir, "traversal.zip"), renameInZip(await zipBytes(files), "xx/x.bin", "../x.bin"));
    await expect(load(path.join(dir, "traversal.zip"))).rejects.toThrow(/the file name "\.\.\/x\.bin" points outside the archive/);
    await writeFile(path.join(dir, "huge.zip"), declareSize(await zipBytes(files, true), "xx/x.bin", 0xffffffff));
    await expect(load(path.join(dir, "huge.zip"))).rejects.toThrow(/zip entry xx\/x\.bin is 4096 MB uncompressed, more than the 512 MB allowed per file/);
  });
});
