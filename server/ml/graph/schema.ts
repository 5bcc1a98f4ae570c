import { z } from "zod";

/** A node of the studio's model graph (the old studio's ReactFlow format). */
export interface GraphNode {
  id: string;
  type: string;
  data?: Record<string, unknown>;
  /** Optional redundant adjacency of the old format; merged into the edges. */
  inputs?: string[];
  outputs?: string[];
}

export interface GraphEdge {
  source: string;
  target: string;
}

export interface ModelGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const nodeSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()).optional(),
  inputs: z.array(z.string()).optional(),
  outputs: z.array(z.string()).optional(),
});

// ReactFlow edges carry more keys (id, sourceHandle, animated…); only source/target matter here.
const edgeSchema = z.object({ source: z.string().min(1), target: z.string().min(1) });

export const modelGraphSchema: z.ZodType<ModelGraph> = z.object({
  nodes: z.array(nodeSchema).min(1, "a graph needs at least one node"),
  edges: z.array(edgeSchema).default([]),
}) as z.ZodType<ModelGraph>;

/** A problem with a graph; `nodeId` and `field` say where, so an editor can highlight it. */
export class GraphError extends Error {
  constructor(
    message: string,
    public nodeId?: string,
    public field?: string,
  ) {
    super(message);
    this.name = "GraphError";
  }
}

/**
 * Edges are the truth; a node's `inputs`/`outputs` arrays are accepted as extra edges.
 * Explicit edges keep their order (it fixes the order of a node's inputs), then the
 * arrays add what is missing. Duplicates are dropped.
 */
export function mergedEdges(graph: ModelGraph): GraphEdge[] {
  const seen = new Set<string>();
  const result: GraphEdge[] = [];
  const add = (source: string, target: string) => {
    const key = `${source}\u0000${target}`;
    if (seen.has(key)) return;
    seen.add(key);
    result.push({ source, target });
  };
  for (const edge of graph.edges ?? []) add(edge.source, edge.target);
  for (const node of graph.nodes) {
    for (const source of node.inputs ?? []) add(source, node.id);
    for (const target of node.outputs ?? []) add(node.id, target);
  }
  return result;
}
