// The editor's state is React Flow's nodes and edges; the stored graph is the engine's
// `{nodes: [{id, type, data, position}], edges: [{source, target}]}`. Edge order is input order
// (Concat, Detect), so new connections are appended and imports keep theirs.
import type { Edge, Node } from "@xyflow/react";

export interface LayerData extends Record<string, unknown> {
  type: string;
  params: Record<string, unknown>;
}

export interface InnerData extends Record<string, unknown> {
  type: string;
  label: string;
  shape: number[];
  params: number;
  flops: number;
}

export type LayerNode = Node<LayerData, "layer">;
export type InnerNode = Node<InnerData, "inner">;
export type EditorNode = LayerNode | InnerNode | Node<{ label: string }, "block">;

export interface StoredNode {
  id: string;
  type: string;
  data?: Record<string, unknown>;
  position?: { x: number; y: number };
  inputs?: string[];
  outputs?: string[];
}

export interface StoredGraph {
  nodes: StoredNode[];
  edges: { source: string; target: string }[];
}

const edgeId = (source: string, target: string) => `${source}->${target}`;

export function flowEdge(source: string, target: string): Edge {
  return { id: edgeId(source, target), source, target };
}

/** Edges first, then what the old format's inputs/outputs arrays add, without duplicates. */
export function graphEdges(graph: StoredGraph): { source: string; target: string }[] {
  const seen = new Set<string>();
  const out: { source: string; target: string }[] = [];
  const add = (source: string, target: string) => {
    if (seen.has(edgeId(source, target))) return;
    seen.add(edgeId(source, target));
    out.push({ source, target });
  };
  for (const e of graph.edges ?? []) add(e.source, e.target);
  for (const n of graph.nodes) {
    for (const s of n.inputs ?? []) add(s, n.id);
    for (const t of n.outputs ?? []) add(n.id, t);
  }
  return out;
}

export function toFlow(graph: StoredGraph): { nodes: LayerNode[]; edges: Edge[]; positioned: boolean } {
  const nodes = graph.nodes.map(
    (n, i): LayerNode => ({ id: n.id, type: "layer", position: n.position ?? { x: 0, y: i * 90 }, data: { type: n.type, params: { ...(n.data ?? {}) } } }),
  );
  return { nodes, edges: graphEdges(graph).map((e) => flowEdge(e.source, e.target)), positioned: graph.nodes.every((n) => n.position) };
}

/** Only the graph's own nodes: an expanded block's inner view is display. */
export function toGraph(nodes: EditorNode[], edges: Edge[]): StoredGraph {
  const layers = nodes.filter((n): n is LayerNode => n.type === "layer");
  const ids = new Set(layers.map((n) => n.id));
  return {
    nodes: layers.map((n) => ({ id: n.id, type: n.data.type, data: n.data.params, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } })),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ source: e.source, target: e.target })),
  };
}

/** `conv2d_3`: the type in lower case and the first free number. */
export function freshId(type: string, taken: Set<string>): string {
  const base = type.toLowerCase().replace(/[^a-z0-9]+/g, "_");
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** 3 significant digits with K/M/G: 93.4M, 4.70K, 464. */
export function formatCount(n: number): string {
  for (const [unit, scale] of [["G", 1e9], ["M", 1e6], ["K", 1e3]] as const) if (n >= scale) return `${(n / scale).toPrecision(3)}${unit}`;
  return String(n);
}
