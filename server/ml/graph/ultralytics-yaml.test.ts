import { describe, expect, it } from "vitest";
import { yolov8Graph, YOLOV8_SCALES } from "../zoo/yolov8";
import { YOLOV8_YAML as YOLOV8 } from "../zoo/yolov8-yaml";
import { analyzeGraph, planGraph } from "./index";
import { ultralyticsInfo, ultralyticsSummaryLine } from "./ultralytics-info";
import { graphToUltralyticsYaml, parseUltralyticsYaml, scaleFromFileName, UltralyticsYamlError } from "./ultralytics-yaml";

// What Ultralytics' model.info() prints for YOLO("yolov8<s>.yaml") at 80 classes, imgsz 640.
const PUBLISHED = {
  n: { layers: 129, parameters: 3_157_200, gradients: 3_157_184, gflops: "8.9" },
  s: { layers: 129, parameters: 11_166_560, gradients: 11_166_544, gflops: "28.8" },
  m: { layers: 169, parameters: 25_902_640, gradients: 25_902_624, gflops: "79.3" },
  l: { layers: 209, parameters: 43_691_520, gradients: 43_691_504, gflops: "165.7" },
  x: { layers: 209, parameters: 68_229_648, gradients: 68_229_632, gflops: "258.5" },
};

/** yolov8.yaml with a P2 head: Detect over strides 4/8/16/32, as yolov8-p2.yaml. */
const P2_HEAD = YOLOV8.slice(0, YOLOV8.indexOf("head:")) + `head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 6], 1, Concat, [1]]
  - [-1, 3, C2f, [512]] # 12
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 4], 1, Concat, [1]]
  - [-1, 3, C2f, [256]] # 15
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 2], 1, Concat, [1]]
  - [-1, 3, C2f, [128]] # 18 (P2/4)
  - [-1, 1, Conv, [128, 3, 2]]
  - [[-1, 15], 1, Concat, [1]]
  - [-1, 3, C2f, [256]] # 21
  - [-1, 1, Conv, [256, 3, 2]]
  - [[-1, 12], 1, Concat, [1]]
  - [-1, 3, C2f, [512]] # 24
  - [-1, 1, Conv, [512, 3, 2]]
  - [[-1, 9], 1, Concat, [1]]
  - [-1, 3, C2f, [1024]] # 27
  - [[18, 21, 24, 27], 1, Detect, [nc]]
`;

function rowError(text: string): UltralyticsYamlError {
  try {
    parseUltralyticsYaml(text, { scale: "n" });
  } catch (error) {
    if (error instanceof UltralyticsYamlError) return error;
    throw error;
  }
  throw new Error("the YAML was accepted");
}

const replaceRow = (row: string, by: string) => {
  expect(YOLOV8).toContain(row);
  return YOLOV8.replace(row, by);
};

describe("Ultralytics model YAML import", () => {
  for (const [scale, published] of Object.entries(PUBLISHED)) {
    it(`yolov8${scale}.yaml gives Ultralytics' model.info() line`, () => {
      const { graph, scale: picked, task } = parseUltralyticsYaml(YOLOV8, { fileName: `models/yolov8${scale}.yaml` });
      expect([picked, task]).toEqual([scale, "detect"]);
      const info = ultralyticsInfo(graph, 640);
      expect({ layers: info.layers, parameters: info.parameters, gradients: info.gradients, gflops: info.gflops.toFixed(1) }).toEqual(published);
    });
  }

  it("builds the same network as the zoo's yolov8 (parameters, FLOPs, layers and their names)", () => {
    const { graph } = parseUltralyticsYaml(YOLOV8, { scale: "s" });
    const zoo = yolov8Graph({ numClasses: 80, scale: YOLOV8_SCALES.s });
    const ours = planGraph(graph, [320, 320, 3]);
    const theirs = planGraph(zoo, [320, 320, 3]);
    expect(ours.summary.totalParams).toBe(theirs.summary.totalParams);
    expect(ours.summary.totalFlops).toBe(theirs.summary.totalFlops);
    const weighted = (plan: typeof ours) => plan.nodes.filter((n) => n.def.type === "Conv2d" || n.def.type === "BatchNorm" || n.def.type === "Detect").map((n) => n.node.id);
    expect(weighted(ours)).toEqual(weighted(theirs));
    expect(ultralyticsSummaryLine("YOLOv8s", ultralyticsInfo(graph))).toBe("YOLOv8s summary: 129 layers, 11,166,560 parameters, 11,166,544 gradients, 28.8 GFLOPs");
  });

  it("takes the scale from the file name, then the first of scales with a warning; nc can be overridden", () => {
    expect(scaleFromFileName("yolov8x.yaml")).toBe("x");
    expect(scaleFromFileName("my-net.yaml")).toBeUndefined();
    const unnamed = parseUltralyticsYaml(YOLOV8, { nc: 3 });
    expect(unnamed.scale).toBe("n");
    expect(unnamed.warnings.join()).toMatch(/assuming scale 'n'/);
    expect(unnamed.graph.nodes.find((n) => n.id === "detect")!.data).toEqual({ nc: 3 });
  });

  it("reads a custom P2 head: Detect over four levels with strides 4–32", () => {
    const { graph } = parseUltralyticsYaml(P2_HEAD, { scale: "n" });
    expect(graph.nodes.at(-1)!.data).toEqual({ nc: 80, strides: [4, 8, 16, 32] });
    const summary = analyzeGraph(graph, [640, 640, 3]);
    expect(summary.outputShapes).toEqual([[160 * 160 + 80 * 80 + 40 * 40 + 20 * 20, 64 + 80]]);
  });

  it("exports rows in order and reads its own file back to the identical graph", () => {
    for (const source of [YOLOV8, P2_HEAD]) {
      const first = parseUltralyticsYaml(source, { scale: "m" }).graph;
      const text = graphToUltralyticsYaml(first, { name: "yolov8m" });
      expect(text).toContain("  - [-1, 2, C2f, [96, True]] # 2");
      const again = parseUltralyticsYaml(text);
      expect(again.graph).toEqual(first);
      expect(graphToUltralyticsYaml(again.graph, { name: "yolov8m" })).toBe(text);
    }
  });

  it("refuses an unknown module, a bad from index and a channel mismatch, naming the row", () => {
    const unknown = rowError(replaceRow("[-1, 3, C2f, [128, True]]", "[-1, 3, C3k2, [128, True]]"));
    expect(unknown.row).toBe(2);
    expect(unknown.message).toMatch(/^row 2 \(backbone\[2\]\) C3k2: unknown module "C3k2"; supported: Conv, C2f/);

    const forward = rowError(replaceRow("[[-1, 6], 1, Concat, [1]] # cat backbone P4", "[[-1, 16], 1, Concat, [1]]"));
    expect(forward.row).toBe(11);
    expect(forward.message).toMatch(/row 11 \(head\[1\]\) Concat: 'from' index 16 does not name an earlier row/);

    const spatial = rowError(replaceRow("[[-1, 4], 1, Concat, [1]] # cat backbone P3", "[[-1, 6], 1, Concat, [1]]"));
    expect(spatial.row).toBe(14);
    expect(spatial.message).toMatch(/different spatial sizes/);

    // 3 groups do not divide row 1's 32 output channels.
    const grouped = rowError(replaceRow("[-1, 1, Conv, [256, 3, 2]] # 3-P3/8", "[-1, 1, Conv, [256, 3, 2, None, 3]]"));
    expect(grouped.row).toBe(3);
    expect(grouped.message).toMatch(/^row 3: .*groups=3 must divide input channels \(32\)/);
  });

  it("refuses graphs that Ultralytics YAML cannot express, naming the node", () => {
    const graph = parseUltralyticsYaml(YOLOV8, { scale: "n" }).graph;
    const withRelu = { nodes: [...graph.nodes, { id: "act", type: "ReLU" }], edges: [...graph.edges.filter((e) => e.target !== "b1"), { source: "b0", target: "act" }, { source: "act", target: "b1" }] };
    expect(() => graphToUltralyticsYaml(withRelu)).toThrow(/node "act" \(ReLU\) has no Ultralytics YAML module/);
    const odd = { ...graph, nodes: graph.nodes.map((n) => (n.id === "b0" ? { ...n, data: { ...n.data, filters: 20 } } : n)) };
    expect(() => graphToUltralyticsYaml(odd)).toThrow(/node "b0" \(ConvBlock\): 20 channels/);
  });
});
