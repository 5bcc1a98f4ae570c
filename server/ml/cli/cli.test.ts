import { describe, it, expect } from "vitest";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeShapesImageFolder } from "../data/testing/shapes";
import { CliError } from "./args";
import { parseCliArgs, runCli } from "./index";
import { trainInputFromArgs } from "./train";

describe("CLI arguments", () => {
  it("parses Ultralytics-style key=value pairs with typed values", () => {
    const parsed = parseCliArgs(["train", "data=/d", "model=resnet18", "epochs=10", "imgsz=64", "cos_lr=true", "device=0", "name=123", "--json"]);
    expect(parsed).toEqual({
      command: "train",
      json: true,
      args: { data: "/d", model: "resnet18", epochs: 10, imgsz: 64, cos_lr: true, device: "0", name: "123" },
    });
  });

  it("rejects unknown keys, listing the valid ones", () => {
    expect(() => parseCliArgs(["train", "data=/d", "epoch=3"])).toThrow(CliError);
    expect(() => parseCliArgs(["train", "epoch=3"])).toThrow(/unknown key "epoch" for train; valid keys: .*epochs/);
    expect(() => parseCliArgs(["export", "model=x", "imgsz=3"])).toThrow(/valid keys: model, format, opset, half, int8, dynamic, output/);
    expect(() => parseCliArgs(["train", "epochs"])).toThrow(/"epochs" is not key=value/);
    expect(() => parseCliArgs(["fly"])).toThrow(/unknown command "fly"; commands: train, val, export, predict, info/);
  });

  it("turns resume=<run folder> into runsDir/project/name", async () => {
    expect(await trainInputFromArgs({ resume: "/x/runs/classify/exp3" })).toMatchObject({ resume: true, runsDir: "/x/runs", project: "classify", name: "exp3" });
  });

  it("names the supported formats for an unsupported export format", async () => {
    await expect(runCli(["export", "model=whatever", "format=torchscript"], () => {})).rejects.toThrow(
      'export format "torchscript" is not supported; supported formats: onnx, tfjs',
    );
  });

  it("trains, validates, predicts and exports end to end, printing JSON lines", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "cli-test-"));
    const data = path.join(root, "shapes");
    await makeShapesImageFolder(data, { classes: 2, perClass: 10, size: 32 });
    const lines: string[] = [];
    const print = (line: string) => lines.push(line);
    await runCli(["train", `data=${data}`, "model=reference-cnn", "epochs=1", "imgsz=32", "batch=8", `runsDir=${root}/runs`, "--json"], print);
    const events = lines.map((line) => JSON.parse(line) as { type: string; runDir?: string; bestCheckpoint?: string });
    expect(events[0].type).toBe("start");
    expect(events.map((e) => e.type)).toContain("epoch_end");
    const result = events.at(-1)!;
    expect(result).toMatchObject({ type: "result", status: "completed", runDir: path.join(root, "runs", "classify", "exp") });

    lines.length = 0;
    await runCli(["val", `model=${result.runDir}/weights/best`, `data=${data}`, "--json"], print);
    expect(JSON.parse(lines[0])).toMatchObject({ type: "validation", split: "val", metrics: { top1_acc: expect.any(Number) } });

    lines.length = 0;
    await runCli(["predict", `model=${result.runDir}`, `source=${path.join(data, "val")}`, "--json"], print);
    expect(lines).toHaveLength(4);
    const prediction = JSON.parse(lines[0]) as { top: { class: string; probability: number }[] };
    expect(prediction.top.map((t) => t.class).sort()).toEqual(["circle", "square"]);
    expect(prediction.top[0].probability + prediction.top[1].probability).toBeCloseTo(1, 5);

    lines.length = 0;
    await runCli(["export", `model=${result.runDir}/weights/best`, "format=tfjs", "--json"], print);
    const exported = JSON.parse(lines[0]) as { output: string };
    const modelJson = JSON.parse(await readFile(path.join(exported.output, "model.json"), "utf8"));
    expect(modelJson.format).toBe("layers-model");
    expect((await stat(path.join(exported.output, "weights.bin"))).size).toBeGreaterThan(0);

    lines.length = 0;
    await runCli(["export", `model=${result.runDir}/weights/best`, "format=onnx", "--json"], print);
    const onnx = JSON.parse(lines[0]) as { output: string };
    expect(onnx.output).toBe(path.join(result.runDir!, "weights", "best.onnx"));
    expect((await stat(onnx.output)).size).toBeGreaterThan(1000);
  });
});
