import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { writeShapesDataset } from "../detect/testing/shapes-dataset";
import { ModelProto } from "../export/onnx-proto";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { runCli } from "./index";
import { inferTask, trainInputFromArgs } from "./train";

interface PredictionLine {
  type: string;
  source: string;
  saved: string;
  width: number;
  height: number;
  detections: { class: string; cls: number; confidence: number; box: number[] }[];
}

describe("CLI for detection", () => {
  let root: string;
  let data: string;
  let graphFile: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "cli-detect-"));
    data = path.join(root, "shapes");
    await writeShapesDataset(data, { train: 8, val: 4, seed: 3, classes: 2, minSize: 48, maxSize: 64 });
    // A yolov8n at width 0.125: same architecture, small enough to train in seconds.
    graphFile = path.join(root, "yolov8-tiny.json");
    await writeFile(graphFile, JSON.stringify(yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.125 })));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("infers the detect task from a YOLO model, a Detect graph or a data.yaml", async () => {
    expect(await inferTask("yolov8n", "/nowhere")).toBe("detect");
    expect(await inferTask("resnet18", `${data}/data.yaml`)).toBe("classify");
    expect(await inferTask(yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.125 }), undefined)).toBe("detect");
    expect(await inferTask("my-weights.ckpt", `${data}/data.yaml`)).toBe("detect");
    expect(await inferTask("my-weights.ckpt", data)).toBe("detect");
    expect(await trainInputFromArgs({ data: `${data}/data.yaml`, model: "yolov8n", imgsz: 320 })).toMatchObject({ task: "detect", model: "yolov8n" });
  });

  it("trains from a data.yaml, prints the val table, predicts annotated images and serves its ONNX export", async () => {
    const lines: string[] = [];
    const print = (line: string) => lines.push(line);
    const runsDir = path.join(root, "runs");
    await runCli(["train", `data=${data}/data.yaml`, `model=${graphFile}`, "epochs=1", "imgsz=64", "batch=8", "mosaic=0", `runsDir=${runsDir}`, "--json"], print);
    const result = JSON.parse(lines.at(-1)!) as { type: string; status: string; runDir: string };
    expect(result).toMatchObject({ type: "result", status: "completed", runDir: path.join(runsDir, "detect", "exp") });

    lines.length = 0;
    await runCli(["val", `model=${result.runDir}`], print);
    expect(lines[0].trim().split(/\s+/)).toEqual(["Class", "Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)"]);
    const all = lines[1].trim().split(/\s+/);
    expect(all.slice(0, 2)).toEqual(["all", "4"]);
    for (const value of all.slice(3)) expect(Number(value)).toBeGreaterThanOrEqual(0);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    // Right-aligned fixed-width columns: every row ends where the header does.
    for (const line of lines) expect(line.length).toBe(lines[0].length);

    lines.length = 0;
    await runCli(["val", `model=${result.runDir}/weights/best`, `data=${data}`, "--json"], print);
    const validation = JSON.parse(lines[0]) as { type: string; metrics: Record<string, number>; details: { images: number } };
    expect(validation.type).toBe("validation");
    expect(validation.details.images).toBe(4);
    for (const key of ["precision", "recall", "mAP50", "mAP50_95", "val_box_loss"]) expect(Number.isFinite(validation.metrics[key])).toBe(true);

    const source = path.join(data, "images", "val");
    const predict = async (model: string) => {
      lines.length = 0;
      await runCli(["predict", `model=${model}`, `source=${source}`, "conf=0.001", "max_det=3", `runsDir=${runsDir}`, "--json"], print);
      const events = lines.map((line) => JSON.parse(line) as PredictionLine & { dir?: string });
      return { predictions: events.filter((e) => e.type === "prediction"), dir: events.at(-1)!.dir! };
    };

    const fromCheckpoint = await predict(result.runDir);
    expect(fromCheckpoint.dir).toBe(path.join(runsDir, "detect", "predict"));
    expect(fromCheckpoint.predictions).toHaveLength(4);
    expect((await readdir(fromCheckpoint.dir)).sort()).toEqual((await readdir(source)).sort());
    for (const p of fromCheckpoint.predictions) {
      const meta = await sharp(p.saved).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["png", p.width, p.height]);
      expect(p.detections.length).toBeGreaterThan(0);
      expect(p.detections.length).toBeLessThanOrEqual(3);
      for (const d of p.detections) {
        expect(["red_square", "green_circle"]).toContain(d.class);
        expect(d.box[2]).toBeLessThanOrEqual(p.width);
        expect(d.box[3]).toBeLessThanOrEqual(p.height);
      }
    }
    // The annotated image differs from its source: boxes were drawn.
    const drawn = fromCheckpoint.predictions[0];
    const [before, after] = await Promise.all([drawn.source, drawn.saved].map((f) => sharp(f).removeAlpha().raw().toBuffer()));
    expect(after.equals(before)).toBe(false);

    lines.length = 0;
    await runCli(["export", `model=${result.runDir}/weights/best`, "format=onnx", "--json"], print);
    const onnxFile = (JSON.parse(lines[0]) as { output: string }).output;
    const fromOnnx = await predict(onnxFile);
    expect(fromOnnx.dir).toBe(path.join(runsDir, "detect", "predict2"));
    expect(fromOnnx.predictions.map((p) => p.source)).toEqual(fromCheckpoint.predictions.map((p) => p.source));
    // Same model, same decode + NMS: the top detection of each image agrees with the TF.js one.
    fromOnnx.predictions.forEach((p, i) => {
      const [onnxTop] = p.detections;
      const [tfjsTop] = fromCheckpoint.predictions[i].detections;
      expect(onnxTop.cls).toBe(tfjsTop.cls);
      expect(onnxTop.confidence).toBeCloseTo(tfjsTop.confidence, 3);
      onnxTop.box.forEach((v, k) => expect(Math.abs(v - tfjsTop.box[k])).toBeLessThanOrEqual(0.2));
    });

    // The metadata as Ultralytics writes it (Python dict names, imgsz list, extra keys) reads the same.
    const model = ModelProto.decode(await readFile(onnxFile)) as unknown as { metadata_props: { key: string; value: string }[] };
    model.metadata_props = [
      { key: "author", value: "Ultralytics" },
      { key: "stride", value: "32" },
      { key: "task", value: "detect" },
      { key: "batch", value: "1" },
      { key: "imgsz", value: "[64, 64]" },
      { key: "names", value: "{0: 'red_square', 1: 'green_circle'}" },
    ];
    const ultralyticsFile = path.join(root, "ultralytics-style.onnx");
    await writeFile(ultralyticsFile, ModelProto.encode(model).finish());
    const fromUltralytics = await predict(ultralyticsFile);
    expect(fromUltralytics.predictions.map((p) => p.detections)).toEqual(fromOnnx.predictions.map((p) => p.detections));
  }, 60_000);
});
