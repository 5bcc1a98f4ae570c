import { describe, expect, it } from "vitest";
import { analyzeGraph, GraphError, layerTypeNames, type GraphNode, type ModelGraph } from "./index";

/** A chain Input → nodes… with edges in order. */
function chain(...nodes: Omit<GraphNode, "id">[]): ModelGraph {
  const all = [{ type: "Input" }, ...nodes].map((n, i) => ({ id: `n${i}`, ...n }));
  return { nodes: all, edges: all.slice(1).map((n, i) => ({ source: all[i].id, target: n.id })) };
}

function outputShape(node: Omit<GraphNode, "id">, input: [number, number, number] = [32, 32, 8]): number[] {
  return analyzeGraph(chain(node), input).outputShapes[0];
}

function graphError(graph: ModelGraph, input: [number, number, number] = [32, 32, 3]): GraphError {
  try {
    analyzeGraph(graph, input);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphError);
    return error as GraphError;
  }
  throw new Error("expected a GraphError");
}

describe("shape inference per node type", () => {
  it.each([
    [{ type: "Conv2d", data: { filters: 16 } }, [32, 32, 16]],
    [{ type: "Conv2d", data: { out: 16, k: 3, s: 2 } }, [16, 16, 16]],
    [{ type: "Conv2d", data: { out: 4, k: 3, s: 1, p: 0 } }, [30, 30, 4]],
    [{ type: "Conv2d", data: { filters: 4, kernel_size: 3, padding: "valid", stride: 2 } }, [15, 15, 4]],
    [{ type: "Conv2d", data: { filters: 4, kernel_size: 3, padding: 2, dilation: 2 } }, [32, 32, 4]],
    [{ type: "Conv2d", data: { filters: 8, groups: 2 } }, [32, 32, 8]],
    [{ type: "DepthwiseConv2d", data: { k: 3, s: 2, depth_multiplier: 2 } }, [16, 16, 16]],
    [{ type: "BatchNorm" }, [32, 32, 8]],
    [{ type: "ReLU" }, [32, 32, 8]],
    [{ type: "ReLU6" }, [32, 32, 8]],
    [{ type: "SiLU" }, [32, 32, 8]],
    [{ type: "LeakyReLU", data: { negative_slope: 0.1 } }, [32, 32, 8]],
    [{ type: "Sigmoid" }, [32, 32, 8]],
    [{ type: "MaxPool", data: { k: 2 } }, [16, 16, 8]],
    [{ type: "MaxPool", data: { kernel_size: 3, stride: 2, padding: "same" } }, [16, 16, 8]],
    [{ type: "MaxPool", data: { kernel_size: 3, stride: 2, padding: 1 } }, [16, 16, 8]],
    [{ type: "MaxPool", data: { kernel_size: [3, 5], stride: 1, padding: [1, 2] } }, [32, 32, 8]],
    [{ type: "Conv2d", data: { filters: 4, kernel_size: 7, stride: 2, padding: 3 } }, [16, 16, 4]],
    [{ type: "AvgPool", data: { kernel_size: 3, stride: 1, padding: 1 } }, [32, 32, 8]],
    [{ type: "GlobalAvgPool" }, [8]],
    [{ type: "Dropout", data: { p: 0.3 } }, [32, 32, 8]],
    [{ type: "Flatten" }, [32 * 32 * 8]],
    [{ type: "Upsample", data: { scale_factor: 2 } }, [64, 64, 8]],
    [{ type: "Softmax" }, [32, 32, 8]],
    [{ type: "Slice", data: { start: 2, end: 6 } }, [32, 32, 4]],
    [{ type: "ZeroPadding", data: { padding: [1, 2, 3, 4] } }, [35, 39, 8]],
  ])("%o → %o", (node, expected) => {
    expect(outputShape(node)).toEqual(expected);
  });

  it("Dense maps a vector to units, and Linear is an alias", () => {
    const graph = chain({ type: "GlobalAvgPool" }, { type: "Linear", data: { in: 8, out: 10 } });
    expect(analyzeGraph(graph, [32, 32, 8]).outputShapes).toEqual([[10]]);
  });

  it("Add keeps the shape and Concat sums channels; inputs follow edge order", () => {
    const graph: ModelGraph = {
      nodes: [
        { id: "in", type: "Input" },
        { id: "a", type: "Conv2d", data: { filters: 4 } },
        { id: "b", type: "Conv2d", data: { filters: 4 } },
        { id: "sum", type: "Add" },
        { id: "cat", type: "Concat" },
      ],
      edges: [
        { source: "in", target: "a" },
        { source: "in", target: "b" },
        { source: "a", target: "sum" },
        { source: "b", target: "sum" },
        { source: "sum", target: "cat" },
        { source: "in", target: "cat" },
      ],
    };
    const summary = analyzeGraph(graph, [16, 16, 3]);
    expect(summary.nodes.find((n) => n.id === "sum")!.outputShape).toEqual([16, 16, 4]);
    expect(summary.outputShapes).toEqual([[16, 16, 7]]);
    expect(summary.order).toEqual(["in", "a", "b", "sum", "cat"]);
  });

  it("accepts the old studio's inputs/outputs arrays as edges and dedupes them", () => {
    const graph: ModelGraph = {
      nodes: [
        { id: "n0", type: "Input", outputs: ["n1"] },
        { id: "n1", type: "Conv2d", data: { in: 3, out: 64, k: 3, s: 1 }, inputs: ["n0"], outputs: ["n2"] },
        { id: "n2", type: "ReLU", inputs: [] },
      ],
      edges: [{ source: "n0", target: "n1" }],
    };
    expect(analyzeGraph(graph, [8, 8, 3]).outputShapes).toEqual([[8, 8, 64]]);
  });

  it("counts params and FLOPs (2 × multiply-adds for conv and dense)", () => {
    const summary = analyzeGraph(chain({ type: "Conv2d", data: { filters: 4, k: 3 } }, { type: "BatchNorm" }), [8, 8, 2]);
    const conv = summary.nodes[1];
    expect(conv.params).toBe(3 * 3 * 2 * 4 + 4);
    expect(conv.flops).toBe(2 * 8 * 8 * 4 * 3 * 3 * 2);
    expect(summary.nodes[2]).toMatchObject({ params: 16, trainableParams: 8 });
    expect(summary.totalParams).toBe(76 + 16);
    expect(summary.totalTrainableParams).toBe(76 + 8);
  });
});

describe("graph errors name the node", () => {
  it("reports a cycle with the nodes on it", () => {
    const graph = chain({ type: "Conv2d", data: { filters: 3 } }, { type: "Add" }, { type: "ReLU" });
    graph.edges.push({ source: "n3", target: "n2" }, { source: "n0", target: "n2" });
    const error = graphError(graph);
    expect(error.message).toMatch(/cycle: n[23] → n[23] → n[23]/);
  });

  it("reports an edge to an unknown node", () => {
    const graph = chain({ type: "ReLU" });
    graph.edges.push({ source: "n1", target: "ghost" });
    const error = graphError(graph);
    expect(error.message).toContain('unknown node "ghost"');
    expect(error.nodeId).toBe("n1");
  });

  it("reports a node without input", () => {
    const graph = chain({ type: "ReLU" });
    graph.nodes.push({ id: "lonely", type: "Conv2d", data: { filters: 2 } });
    const error = graphError(graph);
    expect(error.message).toBe('node "lonely" (Conv2d) has no input');
    expect(error.nodeId).toBe("lonely");
  });

  it("rejects several Input nodes", () => {
    const graph = chain({ type: "ReLU" });
    graph.nodes.push({ id: "second", type: "Input" });
    expect(graphError(graph).message).toContain("only one Input node is supported, found 2: n0, second");
  });

  it("shows both shapes when Add inputs differ", () => {
    const graph = chain({ type: "Conv2d", data: { filters: 4 } }, { type: "Add" });
    graph.edges.push({ source: "n0", target: "n2" });
    const error = graphError(graph);
    expect(error.message).toBe('node "n2" (Add): inputs must have the same shape: [32, 32, 4] vs [32, 32, 3]');
    expect(error.nodeId).toBe("n2");
  });

  it("rejects Concat with different spatial sizes", () => {
    const graph = chain({ type: "MaxPool", data: { k: 2 } }, { type: "Concat" });
    graph.edges.push({ source: "n0", target: "n2" });
    const error = graphError(graph);
    expect(error.message).toContain('node "n2" (Concat)');
    expect(error.message).toContain("[16, 16, 3] vs [32, 32, 3]");
  });

  it("lists known types for an unknown type", () => {
    const error = graphError(chain({ type: "Transformer" }));
    expect(error.message).toContain('node "n1": unknown type "Transformer"; known types: ');
    expect(error.message).toContain(layerTypeNames().join(", "));
    expect(error).toMatchObject({ nodeId: "n1", field: "type" });
  });

  it("names the field of a bad parameter", () => {
    const error = graphError(chain({ type: "Conv2d", data: { filters: -2 } }));
    expect(error.message).toMatch(/^node "n1" \(Conv2d\): field "filters": /);
    expect(error).toMatchObject({ nodeId: "n1", field: "filters" });
    expect(graphError(chain({ type: "Conv2d" })).field).toBe("filters");
  });

  it("checks declared input channels", () => {
    const error = graphError(chain({ type: "Conv2d", data: { in: 16, out: 8 } }));
    expect(error.message).toContain("expects 16 input channels (in_channels) but receives 3");
    expect(error.field).toBe("in_channels");
  });

  it("rejects Dense on an image tensor and suggests Flatten/GAP", () => {
    const error = graphError(chain({ type: "Dense", data: { units: 10 } }));
    expect(error.message).toBe('node "n1" (Dense): needs a vector [F] but receives [32, 32, 3]; insert Flatten or GlobalAvgPool before it');
  });

  it("reports a spatial size that collapses to 0", () => {
    const graph = chain({ type: "Conv2d", data: { filters: 4, k: 5, padding: "valid" } }, { type: "MaxPool", data: { k: 4 } });
    const error = graphError(graph, [4, 4, 3]);
    expect(error.message).toContain('node "n1" (Conv2d): spatial size collapses to 0x0');
    expect(error.nodeId).toBe("n1");
  });

  it("rejects a Slice beyond the channels and a node with too many inputs", () => {
    expect(graphError(chain({ type: "Slice", data: { start: 0, end: 9 } })).message).toContain("end 9 is beyond the 3 input channels");
    const graph = chain({ type: "ReLU" }, { type: "ReLU" });
    graph.edges.push({ source: "n0", target: "n2" });
    expect(graphError(graph).message).toBe('node "n2" (ReLU) accepts at most 1 input(s), has 2');
  });
});
