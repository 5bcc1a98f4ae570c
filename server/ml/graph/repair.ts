// Leniency for graphs written by hand to the old studio's format (seed 002 §2.4.A), whose own
// example names an output node that is not in its list and has no Input node: such references are
// dropped and the model input is wired to the nodes that need one, each change reported as a warning.
import { findBlockType } from "./blocks";
import { findLayerType } from "./index";
import { mergedEdges, type GraphEdge, type GraphNode, type ModelGraph } from "./schema";

export interface RepairedGraph {
  graph: ModelGraph;
  warnings: string[];
}

const needsInput = (type: string) => ((findLayerType(type) ?? findBlockType(type))?.inputs.min ?? 1) > 0;
const isInput = (type: string) => findLayerType(type)?.type === "Input";

export function repairGraph(graph: ModelGraph): RepairedGraph {
  const warnings: string[] = [];
  const ids = new Set(graph.nodes.map((n) => n.id));
  const known = (node: GraphNode, key: "inputs" | "outputs") => {
    const list = node[key];
    if (!list) return list;
    const kept = list.filter((id) => ids.has(id));
    for (const id of list.filter((id) => !ids.has(id))) warnings.push(`node "${node.id}": ${key} names "${id}", which is not in the nodes list; ignored`);
    return kept;
  };
  const nodes = graph.nodes.map((node) => ({ ...node, ...(node.inputs && { inputs: known(node, "inputs") }), ...(node.outputs && { outputs: known(node, "outputs") }) }));
  const edges: GraphEdge[] = [];
  for (const edge of graph.edges ?? []) {
    if (ids.has(edge.source) && ids.has(edge.target)) edges.push(edge);
    else warnings.push(`edge ${edge.source} → ${edge.target} names a node that is not in the nodes list; ignored`);
  }
  if (!nodes.some((n) => isInput(n.type))) {
    const targets = new Set(mergedEdges({ nodes, edges }).map((e) => e.target));
    const starts = nodes.filter((n) => !targets.has(n.id) && needsInput(n.type));
    if (starts.length > 0) {
      let inputId = "input";
      for (let i = 2; ids.has(inputId); i++) inputId = `input${i}`;
      nodes.unshift({ id: inputId, type: "Input" });
      for (const node of starts) edges.push({ source: inputId, target: node.id });
      warnings.push(`the graph has no Input node: added "${inputId}" feeding ${starts.map((n) => `"${n.id}"`).join(", ")}`);
    }
  }
  return { graph: { nodes, edges }, warnings };
}

/** Nodes in the old format: each with the `inputs` and `outputs` arrays its edges give. */
export function withAdjacency(graph: ModelGraph): GraphNode[] {
  const edges = mergedEdges(graph);
  return graph.nodes.map((node) => ({
    ...node,
    inputs: edges.filter((e) => e.target === node.id).map((e) => e.source),
    outputs: edges.filter((e) => e.source === node.id).map((e) => e.target),
  }));
}
