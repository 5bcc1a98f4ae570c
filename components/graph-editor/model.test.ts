import { describe, expect, it } from "vitest";
import { formatCount, freshId, graphEdges, toFlow, toGraph, type EditorNode } from "./model";

describe("builder graph model", () => {
  it("reads the old format's inputs/outputs arrays as edges after the explicit ones, without duplicates", () => {
    const graph = {
      nodes: [
        { id: "in", type: "Input", outputs: ["a"] },
        { id: "a", type: "Conv2d", inputs: ["in"], outputs: ["cat"] },
        { id: "cat", type: "Concat", inputs: ["in"] },
      ],
      edges: [{ source: "a", target: "cat" }],
    };
    // Edge order is input order: cat reads a, then in.
    expect(graphEdges(graph)).toEqual([
      { source: "a", target: "cat" },
      { source: "in", target: "a" },
      { source: "in", target: "cat" },
    ]);
    expect(toFlow(graph).positioned).toBe(false);
  });

  it("saves only the graph's own nodes: an unfolded block's view and its edges are left out", () => {
    const { nodes, edges } = toFlow({ nodes: [{ id: "in", type: "Input", position: { x: 1.4, y: 2.6 } }, { id: "b", type: "C2f", data: { filters: 32 }, position: { x: 0, y: 90 } }], edges: [{ source: "in", target: "b" }] });
    const display: EditorNode[] = [{ id: "inner:b_cv1", type: "inner", position: { x: 0, y: 0 }, data: { type: "ConvBlock", label: "b_cv1", shape: [], params: 0, flops: 0 } }];
    const saved = toGraph([...nodes, ...display], [...edges, { id: "inner:x", source: "inner:b_cv1", target: "b" }]);
    expect(saved).toEqual({
      nodes: [
        { id: "in", type: "Input", data: {}, position: { x: 1, y: 3 } },
        { id: "b", type: "C2f", data: { filters: 32 }, position: { x: 0, y: 90 } },
      ],
      edges: [{ source: "in", target: "b" }],
    });
  });

  it("names new nodes after their type with the first free number, and shortens counts", () => {
    expect(freshId("Conv2d", new Set(["conv2d_1", "conv2d_3"]))).toBe("conv2d_2");
    expect([formatCount(464), formatCount(4704), formatCount(93_388_800), formatCount(8_782_233_600)]).toEqual(["464", "4.70K", "93.4M", "8.78G"]);
  });
});
