import { readdir, readFile, stat, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeShapesDataset } from "../detect/testing/shapes-dataset";
import { ModelProto } from "../export/onnx-proto";
import { compileGraph } from "../graph/compile";
import { parseUltralyticsYaml } from "../graph/ultralytics-yaml";
import { writeTorchCheckpoint } from "../io/testing/torch-writer";
import { torchNamerForZooModel } from "../io/torch-to-graph";
import { YOLOV8_YAML } from "../zoo/yolov8-yaml";
import { runCli } from "./index";

const COCO_LIKE = Array.from({ length: 80 }, (_, i) => `thing${i}`);

describe("the CLI on Ultralytics checkpoints (yolov8n.pt and a narrow twin)", () => {
  let root: string;
  let data: string;
  let pt: string;
  let ptN: string;
  beforeAll(async () => {
    await tf.setBackend("cpu");
    root = await mkdtemp(path.join(os.tmpdir(), "cli-pt-"));
    data = path.join(root, "shapes");
    await writeShapesDataset(data, { train: 8, val: 4, seed: 5, classes: 2, minSize: 32, maxSize: 40 });
    // What `YOLO("yolov8n.yaml").save()` holds: the DetectionModel pickled whole, its yaml dict, 80 names.
    const writePt = async (file: string, scale: string, scales?: Record<string, number[]>) => {
      const text = scales ? yaml.dump({ ...(yaml.load(YOLOV8_YAML) as object), scales }) : YOLOV8_YAML;
      const model = compileGraph(parseUltralyticsYaml(text, { scale, nc: 80 }).graph, { inputShape: [32, 32, 3], seed: 1 });
      const yamlDict = { ...(yaml.load(text) as Record<string, unknown>), scale, yaml_file: `yolov8${scale}.yaml`, ch: 3 };
      await writeTorchCheckpoint(file, model, torchNamerForZooModel("yolov8n")!, { yaml: yamlDict, names: COCO_LIKE, imgsz: 32, task: "detect" });
      model.dispose();
    };
    ptN = path.join(root, "yolov8n.pt");
    await writePt(ptN, "n");
    // The same rows at a sixteenth of yolov8n's width: a network that trains in seconds.
    pt = path.join(root, "yolov8t.pt");
    await writePt(pt, "t", { t: [0.33, 0.0625, 1024] });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const run = async (argv: string[]) => {
    const lines: string[] = [];
    const notes: string[] = [];
    await runCli([...argv, "--json"], (line) => lines.push(line), (line) => notes.push(line));
    return { events: lines.map((line) => JSON.parse(line) as Record<string, unknown>), notes };
  };

  it("prints model.info()'s line for the .pt, from the yaml it carries", async () => {
    const lines: string[] = [];
    await runCli(["info", `model=${ptN}`], (line) => lines.push(line));
    expect(lines).toEqual(["YOLOv8n summary: 129 layers, 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs"]);
  });

  it("fine-tunes from it into project=/abs name=, then validates, exports and predicts with the run", async () => {
    const project = path.join(root, "runs");
    const trained = await run(["train", `model=${pt}`, `data=${data}/data.yaml`, "epochs=1", "imgsz=32", "batch=4", "mosaic=0", "workers=1", `project=${project}`, "name=ft"]);
    const result = trained.events.at(-1)!;
    expect(result).toMatchObject({ type: "result", status: "completed", runDir: path.join(project, "ft") });
    const messages = trained.events.filter((e) => e.type === "log").map((e) => String(e.message));
    expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^Transferred \\d+/\\d+ tensors from pretrained weights ${pt.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`)));
    expect(messages).toContainEqual(expect.stringMatching(/^Head re-initialised .*the weights' classes \(80: thing0/));
    const runDir = String(result.runDir);
    expect((await readdir(path.join(runDir, "weights"))).sort()).toEqual(["best.ckpt", "last.ckpt"]);
    expect((await readFile(path.join(runDir, "results.csv"), "utf8")).trim().split("\n")).toHaveLength(2);

    const validated = await run(["val", `model=${runDir}`]);
    expect(validated.events[0]).toMatchObject({ type: "validation", split: "val", details: { images: 4 } });
    const valDir = /^Results saved to (.+)$/.exec(validated.notes.at(-1)!)![1];
    expect(valDir).toBe(path.join(root, "detect", "val"));
    expect(await readdir(valDir)).toContain("confusion_matrix.png");

    const exported = await run(["export", `model=${runDir}`, "format=onnx"]);
    const onnx = String(exported.events[0].output);
    expect(onnx).toBe(path.join(runDir, "weights", "best.onnx"));
    const metadata = (ModelProto.decode(await readFile(onnx)) as unknown as { metadata_props: { key: string; value: string }[] }).metadata_props;
    expect(JSON.parse(metadata.find((p) => p.key === "names")!.value)).toEqual({ 0: "red_square", 1: "green_circle" });

    const predicted = await run(["predict", `model=${onnx}`, `source=${data}/images/val`, "conf=0.001", `project=${root}/pred`, "name=onnx"]);
    expect(predicted.events.at(-1)).toMatchObject({ type: "predict", dir: path.join(root, "pred", "onnx"), images: 4 });
    expect(await readdir(path.join(root, "pred", "onnx"))).toHaveLength(4);
  }, 120_000);

  it("validates, exports and predicts with the .pt itself, refusing a dataset of other classes", async () => {
    await expect(run(["val", `model=${pt}`, `data=${data}/data.yaml`])).rejects.toThrow(/^dataset classes \[red_square, green_circle\] differ from the model's classes \[thing0, thing1/);

    const exported = await run(["export", `model=${pt}`, "format=onnx", "imgsz=64", "dynamic=False"]);
    expect(exported.events[0].output).toBe(path.join(root, "yolov8t.onnx"));
    const proto = ModelProto.decode(await readFile(path.join(root, "yolov8t.onnx"))) as unknown as { metadata_props: { key: string; value: string }[] };
    expect(proto.metadata_props.find((p) => p.key === "imgsz")?.value).toBe("[64,64]");

    const predicted = await run(["predict", `model=${pt}`, `source=${data}/images/train`, `project=${root}/pred`, "name=pt"]);
    const dir = path.join(root, "pred", "pt");
    expect(predicted.events.at(-1)).toMatchObject({ type: "predict", dir, images: 8 });
    for (const file of await readdir(dir)) expect((await stat(path.join(dir, file))).size).toBeGreaterThan(0);
  }, 120_000);
});
