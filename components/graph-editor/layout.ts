// Top-to-bottom layered layout with elkjs, for imported graphs and the "Layout" button.
import ELK from "elkjs/lib/elk.bundled.js";
import type { Edge } from "@xyflow/react";
import type { LayerNode } from "./model";

const elk = new ELK();
export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 74;

export async function layoutNodes(nodes: LayerNode[], edges: Edge[]): Promise<LayerNode[]> {
  const ids = new Set(nodes.map((n) => n.id));
  const result = await elk.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.layered.spacing.nodeNodeBetweenLayers": "36",
      "elk.spacing.nodeNode": "28",
      "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    },
    children: nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const placed = new Map((result.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0 }]));
  return nodes.map((n) => ({ ...n, position: placed.get(n.id) ?? n.position }));
}
