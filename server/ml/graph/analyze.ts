import { findLayerType, LayerError, layerTypeNames, type LayerTypeDef, type Shape } from "./registry";
import { GraphError, mergedEdges, modelGraphSchema, type GraphNode, type ModelGraph } from "./schema";
import "./layers";

/**
 * Cost conventions: `params` counts every weight TF.js stores (= model.countParams(), so BatchNorm
 * counts 4 per channel); `trainableParams` leaves out BatchNorm's moving statistics (2 per
 * channel), which is what PyTorch's parameters() counts. FLOPs are for one sample:
 * conv/dense = 2 × multiply-adds; elementwise ops and BatchNorm = 1–2 per output element;
 * pooling = window size per output element.
 */
export interface NodeSummary {
  id: string;
  type: string;
  outputShape: number[];
  params: number;
  trainableParams: number;
  flops: number;
}

export interface GraphSummary {
  order: string[];
  nodes: NodeSummary[];
  totalParams: number;
  totalTrainableParams: number;
  totalFlops: number;
  inputShape: number[];
  outputShapes: number[][];
  /** Ids of the output nodes (no outgoing edge), in the order of `graph.nodes`. */
  outputIds: string[];
}

/** A node after validation: its definition, parsed data and its inputs in edge order. */
export interface PlannedNode {
  node: GraphNode;
  def: LayerTypeDef;
  data: unknown;
  inputIds: string[];
  inputShapes: Shape[];
  outputShape: Shape;
}

export interface GraphPlan {
  nodes: PlannedNode[];
  inputId: string;
  outputIds: string[];
  summary: GraphSummary;
}

const label = (node: GraphNode) => `node "${node.id}" (${node.type})`;

function parseGraph(graph: ModelGraph): ModelGraph {
  const parsed = modelGraphSchema.safeParse(graph);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GraphError(`invalid graph at ${issue.path.join(".") || "root"}: ${issue.message}`, undefined, issue.path.join("."));
  }
  return parsed.data;
}

function resolveDefinition(node: GraphNode): { def: LayerTypeDef; data: unknown } {
  const def = findLayerType(node.type);
  if (!def) {
    throw new GraphError(
      `node "${node.id}": unknown type "${node.type}"; known types: ${layerTypeNames().join(", ")}`,
      node.id,
      "type",
    );
  }
  const parsed = def.dataSchema.safeParse(node.data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".");
    throw new GraphError(`${label(node)}: ${field ? `field "${field}": ` : ""}${issue.message}`, node.id, field || undefined);
  }
  return { def, data: parsed.data };
}

/** Walks back along unprocessed predecessors until a node repeats: that loop is a cycle. */
function findCycle(remaining: Set<string>, predecessors: Map<string, string[]>): string[] {
  const path: string[] = [];
  const seenAt = new Map<string, number>();
  let current = remaining.values().next().value as string;
  while (!seenAt.has(current)) {
    seenAt.set(current, path.length);
    path.push(current);
    current = predecessors.get(current)!.find((p) => remaining.has(p))!;
  }
  return path.slice(seenAt.get(current)).reverse();
}

/** Validates the graph and infers every shape; the basis of analyzeGraph, compileGraph and the exporters. */
export function planGraph(graph: ModelGraph, inputShape: Shape): GraphPlan {
  const { nodes } = parseGraph(graph);
  if (inputShape.length !== 3 || inputShape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new GraphError(`input shape must be [H, W, C] with positive integers, got [${inputShape.join(", ")}]`);
  }
  const byId = new Map<string, GraphNode>();
  for (const node of nodes) {
    if (byId.has(node.id)) throw new GraphError(`node id "${node.id}" is used by more than one node`, node.id, "id");
    byId.set(node.id, node);
  }
  const resolved = new Map(nodes.map((node) => [node.id, resolveDefinition(node)]));

  const predecessors = new Map(nodes.map((n) => [n.id, [] as string[]]));
  const successors = new Map(nodes.map((n) => [n.id, [] as string[]]));
  for (const { source, target } of mergedEdges({ nodes, edges: graph.edges ?? [] })) {
    const missing = byId.has(source) ? target : source;
    if (!byId.has(source) || !byId.has(target)) {
      const known = byId.has(source) ? source : byId.has(target) ? target : undefined;
      throw new GraphError(`edge ${source} → ${target} refers to unknown node "${missing}"`, known, "edges");
    }
    predecessors.get(target)!.push(source);
    successors.get(source)!.push(target);
  }

  const inputNodes = nodes.filter((n) => resolved.get(n.id)!.def.type === "Input");
  if (inputNodes.length === 0) throw new GraphError("the graph has no Input node");
  if (inputNodes.length > 1) {
    throw new GraphError(
      `only one Input node is supported, found ${inputNodes.length}: ${inputNodes.map((n) => n.id).join(", ")}`,
      inputNodes[1].id,
    );
  }
  for (const node of nodes) {
    const { def } = resolved.get(node.id)!;
    const count = predecessors.get(node.id)!.length;
    if (count === 0 && def.inputs.min > 0) throw new GraphError(`${label(node)} has no input`, node.id, "inputs");
    if (count < def.inputs.min) {
      throw new GraphError(`${label(node)} needs at least ${def.inputs.min} inputs, has ${count}`, node.id, "inputs");
    }
    if (count > def.inputs.max) {
      throw new GraphError(`${label(node)} accepts ${def.inputs.max === 0 ? "no" : `at most ${def.inputs.max}`} input(s), has ${count}`, node.id, "inputs");
    }
  }

  // Kahn's algorithm; ties are broken by the order of graph.nodes so the order is stable.
  const indegree = new Map(nodes.map((n) => [n.id, predecessors.get(n.id)!.length]));
  const ready = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const position = new Map(nodes.map((n, i) => [n.id, i]));
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const id = ready.shift()!;
    order.push(id);
    for (const next of successors.get(id)!) {
      indegree.set(next, indegree.get(next)! - 1);
      if (indegree.get(next) === 0) ready.push(next);
    }
  }
  if (order.length < nodes.length) {
    const done = new Set(order);
    const cycle = findCycle(new Set(nodes.map((n) => n.id).filter((id) => !done.has(id))), predecessors);
    throw new GraphError(`the graph has a cycle: ${[...cycle, cycle[0]].join(" → ")}`, cycle[0], "edges");
  }

  const shapes = new Map<string, Shape>();
  const planned: PlannedNode[] = [];
  for (const id of order) {
    const node = byId.get(id)!;
    const { def, data } = resolved.get(id)!;
    const inputIds = predecessors.get(id)!;
    const inputShapes = def.type === "Input" ? [inputShape] : inputIds.map((i) => shapes.get(i)!);
    let outputShape: Shape;
    try {
      outputShape = def.inferShape(inputShapes, data);
    } catch (error) {
      if (error instanceof LayerError) throw new GraphError(`${label(node)}: ${error.message}`, id, error.field);
      throw error;
    }
    if (outputShape.some((d) => d <= 0)) {
      throw new GraphError(`${label(node)}: output shape [${outputShape.join(", ")}] has an empty axis; the input is too small`, id);
    }
    shapes.set(id, outputShape);
    planned.push({ node, def, data, inputIds, inputShapes, outputShape });
  }

  const summaries = planned.map(({ node, def, data, inputShapes, outputShape }): NodeSummary => {
    const params = def.params(inputShapes, data, outputShape);
    return {
      id: node.id,
      type: def.type,
      outputShape,
      params: params.trainable + params.nonTrainable,
      trainableParams: params.trainable,
      flops: def.flops(inputShapes, data, outputShape),
    };
  });
  const outputIds = nodes.filter((n) => successors.get(n.id)!.length === 0).map((n) => n.id);
  const sum = (pick: (s: NodeSummary) => number) => summaries.reduce((total, s) => total + pick(s), 0);
  return {
    nodes: planned,
    inputId: inputNodes[0].id,
    outputIds,
    summary: {
      order,
      nodes: summaries,
      totalParams: sum((s) => s.params),
      totalTrainableParams: sum((s) => s.trainableParams),
      totalFlops: sum((s) => s.flops),
      inputShape: [...inputShape],
      outputShapes: outputIds.map((id) => shapes.get(id)!),
      outputIds,
    },
  };
}

/** Shape inference, parameter and FLOP counts before anything is built. Throws GraphError naming the node. */
export function analyzeGraph(graph: ModelGraph, inputShape: [number, number, number]): GraphSummary {
  return planGraph(graph, inputShape).summary;
}
