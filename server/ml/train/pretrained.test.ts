import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileGraph } from "../graph/compile";
import "../graph/layers";
import "../detect/adapter";
import type { LoadedTensor } from "../io/torch-zip";
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
