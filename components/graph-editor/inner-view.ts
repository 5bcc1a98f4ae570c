// An unfolded block: its layers as the engine runs them, in a frame beside the block, with the
// connections between them. Display only: never saved, never edited, gone when folded.
import type { Edge } from "@xyflow/react";
import type { NodeSummaryView } from "./context";
import type { EditorNode, InnerNode } from "./model";

const ROW = 78;

export function innerView(nodes: EditorNode[], summaries: Map<string, NodeSummaryView>, expanded: Set<string>): { nodes: EditorNode[]; edges: Edge[] } {
  const shown: EditorNode[] = [];
  const edges: Edge[] = [];
  for (const node of nodes) {
    const inner = expanded.has(node.id) ? summaries.get(node.id)?.inner : undefined;
    if (node.type !== "layer" || !inner?.length) continue;
    const frame = `frame:${node.id}`;
    shown.push({
      id: frame,
      type: "block",
      position: { x: node.position.x + 240, y: node.position.y },
      data: { label: `${node.id}: ${inner.length}` },
      style: { width: 214, height: inner.length * ROW + 28 },
      draggable: false,
      selectable: false,
      deletable: false,
      connectable: false,
    });
    const ids = new Set(inner.map((row) => row.id));
    inner.forEach((row, i) => {
      const child: InnerNode = {
        id: `inner:${row.id}`,
        type: "inner",
        parentId: frame,
        extent: "parent",
        position: { x: 12, y: 24 + i * ROW },
        data: { type: row.type, label: row.id, shape: row.outputShape, params: row.trainableParams, flops: row.flops },
        draggable: false,
        selectable: false,
        deletable: false,
        connectable: false,
      };
      shown.push(child);
      for (const source of row.inputs ?? []) {
        if (ids.has(source)) edges.push({ id: `inner:${source}->${row.id}`, source: `inner:${source}`, target: `inner:${row.id}`, selectable: false, deletable: false, style: { strokeDasharray: "4 3" } });
      }
    });
  }
  return { nodes: shown, edges };
}
