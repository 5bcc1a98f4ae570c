import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { YOLOV8_YAML } from "../zoo/yolov8-yaml";
import { runCli } from "./index";

async function info(model: string): Promise<string> {
  const lines: string[] = [];
  await runCli(["info", `model=${model}`], (line) => lines.push(line));
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe("info", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "cli-info-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it.each([
    ["n", "3,157,200", "3,157,184", "8.9"],
    ["s", "11,166,560", "11,166,544", "28.8"],
    ["m", "25,902,640", "25,902,624", "79.3"],
    ["l", "43,691,520", "43,691,504", "165.7"],
    ["x", "68,229,648", "68,229,632", "258.5"],
  ])("prints Ultralytics' parameter count of zoo yolov8%s at 80 classes", async (scale, parameters, gradients, gflops) => {
    expect(await info(`yolov8${scale}`)).toMatch(new RegExp(`^YOLOv8${scale} summary: \\d+ layers, ${parameters} parameters, ${gradients} gradients, ${gflops} GFLOPs$`));
  });

  it("counts a model yaml at the scale its file name picks, and names it as Ultralytics does", async () => {
    const file = path.join(root, "yolov8s.yaml");
    await writeFile(file, YOLOV8_YAML);
    expect(await info(file)).toBe("YOLOv8s summary: 129 layers, 11,166,560 parameters, 11,166,544 gradients, 28.8 GFLOPs");
  });

  it("counts classifiers of the zoo at their 1000 ImageNet classes", async () => {
    expect(await info("resnet18")).toMatch(/^resnet18 summary: \d+ layers, 11,689,512 parameters, 11,689,512 gradients/);
  });
});
