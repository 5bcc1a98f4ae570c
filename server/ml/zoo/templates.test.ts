import { describe, expect, it } from "vitest";
import { planGraph } from "../graph/index";
import { zooGraph } from "./index";
import { zooTemplateGraph, zooTemplates } from "./templates";

const weighted = (plan: ReturnType<typeof planGraph>) => plan.nodes.filter((n) => ["Conv2d", "DepthwiseConv2d", "BatchNorm", "Dense", "Detect"].includes(n.def.type)).map((n) => n.node.id);

describe("zoo templates", () => {
  const cases = [
    ["reference-cnn", "reference-cnn", undefined],
    ["resnet18", "resnet18", undefined],
    ["resnet34", "resnet34", undefined],
    ["mobilenet_v2", "mobilenet_v2", undefined],
    ...["n", "s", "m", "l", "x"].map((s) => ["yolov8", `yolov8${s}`, s]),
  ] as const;
  for (const [template, zoo, scale] of cases) {
    it(`${template}${scale ?? ""} is the zoo's ${zoo}: same weights under the same layer names, same FLOPs`, () => {
      const ours = planGraph(zooTemplateGraph(template, { numClasses: 7, scale }), [64, 64, 3]);
      const theirs = planGraph(zooGraph(zoo, { imgsz: 64, numClasses: 7 }), [64, 64, 3]);
      expect(ours.summary.totalParams).toBe(theirs.summary.totalParams);
      expect(ours.summary.totalFlops).toBe(theirs.summary.totalFlops);
      expect(weighted(ours)).toEqual(weighted(theirs));
    });
  }

  it("draws blocks, not their layers, and lists one yolov8 template with its scales", () => {
    expect(zooTemplateGraph("resnet18", { numClasses: 2 }).nodes.filter((n) => n.type === "BasicBlock")).toHaveLength(8);
    expect(zooTemplateGraph("yolov8", { numClasses: 2, scale: "x" }).nodes).toHaveLength(24);
    expect(zooTemplates().find((t) => t.name === "yolov8")!.scales).toEqual(["n", "s", "m", "l", "x"]);
    expect(() => zooTemplateGraph("yolov8", { numClasses: 2, scale: "q" })).toThrow(/scales n, s, m, l, x/);
  });
});
