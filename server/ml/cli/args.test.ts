import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CliError } from "./args";
import { parseCliArgs, runCli } from "./index";

describe("CLI arguments of each command", () => {
  it("names an unknown key and lists the command's keys", () => {
    expect(() => parseCliArgs(["info", "model=yolov8n", "imgs=320"])).toThrow('unknown key "imgs" for info; valid keys: model, imgsz');
    expect(() => parseCliArgs(["val", "model=x", "save_json=True"])).toThrow(/unknown key "save_json" for val; valid keys: model, data, batch, imgsz/);
    expect(() => parseCliArgs(["predict", "model=x", "sourc=img.png"])).toThrow(/unknown key "sourc" for predict/);
  });

  it("names a key whose value does not read", () => {
    expect(() => parseCliArgs(["val", "model=x", "conf=high"])).toThrow(CliError);
    expect(() => parseCliArgs(["val", "model=x", "conf=high"])).toThrow(/^conf=high for val must be a number; valid keys: /);
    expect(() => parseCliArgs(["export", "model=x", "half=maybe"])).toThrow(/^half=maybe for export must be True or False/);
    expect(() => parseCliArgs(["predict", "model=x", "max_det=2.5"])).toThrow(/^max_det=2.5 for predict must be an integer of at least 1/);
    expect(parseCliArgs(["export", "model=yolov8n.pt", "format=onnx", "imgsz=320", "half=True"]).args).toEqual({ model: "yolov8n.pt", format: "onnx", imgsz: 320, half: true });
  });

  it("says a missing .pt is not downloaded, and what to use instead", async () => {
    await expect(runCli(["info", "model=/nowhere/yolov8s.pt"], () => {})).rejects.toThrow(
      "model=/nowhere/yolov8s.pt: file not found (nothing is downloaded here: put the file there, or use model=yolov8s to start from scratch)",
    );
    await expect(runCli(["val", "model=yolov8n"], () => {})).rejects.toThrow(/val needs trained weights .*model= names a zoo model without weights/);
  });

  it("ends with one line on stderr and exit code 1", async () => {
    const entry = path.join(import.meta.dirname, "index.ts");
    const tsx = path.join(process.cwd(), "node_modules", ".bin", "tsx");
    const failure = await promisify(execFile)(tsx, [entry, "info", "model=/nowhere/yolov8n.pt"]).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe("");
    expect(failure?.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: model=\/nowhere\/yolov8n.pt: file not found/)]);
  }, 30_000);
});
