import { blockTypes, findBlockType, innerNodeId, type BlockTypeDef } from "./blocks";
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
  /** The ids this node reads (inner nodes only, which have no edges of their own). */
  inputs?: string[];
  /** A block's inner nodes, as the engine runs them (ids `<block>_<inner>`). */
  inner?: NodeSummary[];
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

/** A layer after validation (blocks are planned as their inner layers): definition, parsed data, inputs in edge order. */
export interface PlannedNode {
  node: GraphNode;
  def: LayerTypeDef;
  data: unknown;
  inputIds: string[];
  inputShapes: Shape[];
  outputShape: Shape;
  /** The type of the block whose expansion holds this layer directly, if any. */
  parentBlock?: string;
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

type Resolved = { kind: "layer"; def: LayerTypeDef; data: unknown } | { kind: "block"; def: BlockTypeDef; data: unknown };

/** The node's layer type or block and its parsed data; errors name `topId` (the node itself, or the block it is inside). */
function resolveDefinition(node: GraphNode, topId = node.id): Resolved {
  const layer = findLayerType(node.type);
  const block = layer ? undefined : findBlockType(node.type);
  if (!layer && !block) {
    throw new GraphError(
      `node "${node.id}": unknown type "${node.type}"; known types: ${[...layerTypeNames(), ...blockTypes().map((b) => b.type)].join(", ")}`,
      topId,
      "type",
    );
  }
  const parsed = (layer ?? block)!.dataSchema.safeParse(node.data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".");
    throw new GraphError(`${label(node)}: ${field ? `field "${field}": ` : ""}${issue.message}`, topId, field || undefined);
  }
  return layer ? { kind: "layer", def: layer, data: parsed.data } : { kind: "block", def: block!, data: parsed.data };
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
  const taken = new Set(nodes.map((n) => n.id));
  /** A layer node, top-level or inside a block; errors name the top-level node `topId`. */
  const planLayer = (node: GraphNode, def: LayerTypeDef, data: unknown, inputIds: string[], topId: string, parentBlock?: string) => {
    const inputShapes = def.type === "Input" ? [inputShape] : inputIds.map((i) => shapes.get(i)!);
    const where = node.id === topId ? label(node) : `${label(byId.get(topId)!)} at inner node "${node.id}" (${node.type})`;
    let outputShape: Shape;
    try {
      outputShape = def.inferShape(inputShapes, data);
    } catch (error) {
      if (error instanceof LayerError) throw new GraphError(`${where}: ${error.message}`, topId, node.id === topId ? error.field : undefined);
      throw error;
    }
    if (outputShape.some((d) => d <= 0)) {
      throw new GraphError(`${where}: output shape [${outputShape.join(", ")}] has an empty axis; the input is too small`, topId);
    }
    shapes.set(node.id, outputShape);
    planned.push({ node, def, data, inputIds, inputShapes, outputShape, ...(parentBlock && { parentBlock }) });
  };
  /** Plans a block's inner graph in place and returns the id of the node that gives its output. */
  const planBlock = (blockId: string, def: BlockTypeDef, data: unknown, inputIds: string[], topId: string): string => {
    let expansion;
    try {
      expansion = def.expand(inputIds.map((i) => shapes.get(i)!), data);
    } catch (error) {
      if (error instanceof LayerError) throw new GraphError(`${label(byId.get(topId)!)}: ${error.message}`, topId, error.field);
      throw error;
    }
    const local = new Map<string, string>();
    for (const inner of expansion.nodes) {
      const id = innerNodeId(blockId, inner.id);
      if (inner.id !== "" && taken.has(id)) {
        throw new GraphError(`${label(byId.get(topId)!)} expands to a node "${id}", an id another node already has; rename that node`, topId, "id");
      }
      taken.add(id);
      const innerInputs = inner.inputs.map((ref) => (ref.startsWith("$") ? inputIds[Number(ref.slice(1))] : local.get(ref)!));
      const node: GraphNode = { id, type: inner.type, data: inner.data };
      const resolvedInner = resolveDefinition(node, topId);
      if (resolvedInner.kind === "block") local.set(inner.id, planBlock(id, resolvedInner.def, resolvedInner.data, innerInputs, topId));
      else {
        planLayer(node, resolvedInner.def, resolvedInner.data, innerInputs, topId, def.type);
        local.set(inner.id, id);
      }
    }
    return local.get(expansion.output)!;
  };

  const outputOf = new Map<string, string>();
  const summaries: NodeSummary[] = [];
  for (const id of order) {
    const node = byId.get(id)!;
    const resolvedNode = resolved.get(id)!;
    const inputIds = predecessors.get(id)!.map((p) => outputOf.get(p)!);
    const first = planned.length;
    if (resolvedNode.kind === "block") outputOf.set(id, planBlock(id, resolvedNode.def, resolvedNode.data, inputIds, id));
    else {
      planLayer(node, resolvedNode.def, resolvedNode.data, inputIds, id);
      outputOf.set(id, id);
    }
    const parts = planned.slice(first).map(nodeSummary);
    const total = (pick: (s: NodeSummary) => number) => parts.reduce((sum, s) => sum + pick(s), 0);
    summaries.push({
      id,
      type: resolvedNode.def.type,
      outputShape: shapes.get(outputOf.get(id)!)!,
      params: total((s) => s.params),
      trainableParams: total((s) => s.trainableParams),
      flops: total((s) => s.flops),
      ...(resolvedNode.kind === "block" && { inner: parts }),
      ...(resolvedNode.kind === "layer" && resolvedNode.def.innerView && { inner: resolvedNode.def.innerView(planned[first].inputShapes, planned[first].data) }),
    });
  }

  const outputIds = nodes.filter((n) => successors.get(n.id)!.length === 0).map((n) => n.id);
  const sum = (pick: (s: NodeSummary) => number) => summaries.reduce((total, s) => total + pick(s), 0);
  return {
    nodes: planned,
    inputId: inputNodes[0].id,
    outputIds: outputIds.map((id) => outputOf.get(id)!),
    summary: {
      order,
      nodes: summaries,
      totalParams: sum((s) => s.params),
      totalTrainableParams: sum((s) => s.trainableParams),
      totalFlops: sum((s) => s.flops),
      inputShape: [...inputShape],
      outputShapes: outputIds.map((id) => shapes.get(outputOf.get(id)!)!),
      outputIds,
    },
  };
}

function nodeSummary({ node, def, data, inputIds, inputShapes, outputShape }: PlannedNode): NodeSummary {
  const params = def.params(inputShapes, data, outputShape);
  return {
    id: node.id,
    type: def.type,
    outputShape,
    params: params.trainable + params.nonTrainable,
    trainableParams: params.trainable,
    flops: def.flops(inputShapes, data, outputShape),
    inputs: inputIds,
  };
}

/** Shape inference, parameter and FLOP counts before anything is built. Throws GraphError naming the node. */
export function analyzeGraph(graph: ModelGraph, inputShape: [number, number, number]): GraphSummary {
  return planGraph(graph, inputShape).summary;
}
