import { describe, it, expect } from "vitest";
import { analyzeGraph, GraphError, type ModelGraph } from "../graph/index";
import "./head";

/** Input -> three strided convs (P3, P4, P5) -> Detect fed in the given order. */
function graph(order: string[], nc = 2): ModelGraph {
  const conv = (id: string, source: string) => ({ node: { id, type: "Conv2d", data: { filters: 8, kernel_size: 3, stride: id === "p3" ? 8 : 2 } }, edge: { source, target: id } });
  const parts = [conv("p3", "input"), conv("p4", "p3"), conv("p5", "p4")];
  return {
    nodes: [{ id: "input", type: "Input" }, ...parts.map((p) => p.node), { id: "detect", type: "Detect", data: { nc } }],
    edges: [...parts.map((p) => p.edge), ...order.map((source) => ({ source, target: "detect" }))],
  };
}

describe("Detect node type", () => {
  it("outputs [anchors, 4*16 + nc] and counts its parameters", () => {
    const summary = analyzeGraph(graph(["p3", "p4", "p5"]), [64, 64, 3]);
    expect(summary.outputShapes).toEqual([[64 + 16 + 4, 66]]);
    const head = summary.nodes.find((n) => n.id === "detect")!;
    // per level: box branch 3x3 8->64, 3x3 64->64 (conv + BN), 1x1 64->64 (+bias); class branch 3x3 8->8, 3x3 8->8, 1x1 8->2 (+bias)
    const box = 9 * 8 * 64 + 4 * 64 + 9 * 64 * 64 + 4 * 64 + 64 * 64 + 64;
    const cls = 9 * 8 * 8 + 4 * 8 + 9 * 8 * 8 + 4 * 8 + 8 * 2 + 2;
    expect(head.params).toBe(3 * (box + cls));
  });

  it("names the node when feature maps come in the wrong order", () => {
    expect(() => analyzeGraph(graph(["p4", "p3", "p5"]), [64, 64, 3])).toThrow(GraphError);
    expect(() => analyzeGraph(graph(["p4", "p3", "p5"]), [64, 64, 3])).toThrow(/"?detect"?[^]*stride order/);
  });
});
