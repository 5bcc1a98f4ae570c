import type { GraphNode, ModelGraph } from "../graph/schema";

/** Builds a ModelGraph node by node; `add` returns the id so calls can be chained into blocks. */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly edges: ModelGraph["edges"] = [];
  private readonly ids = new Set<string>();

  add(id: string, type: string, inputs: string[], data: Record<string, unknown> = {}): string {
    if (this.ids.has(id)) throw new Error(`GraphBuilder: node id "${id}" is used twice`);
    this.ids.add(id);
    this.nodes.push({ id, type, data });
    for (const source of inputs) this.edges.push({ source, target: id });
    return id;
  }

  graph(): ModelGraph {
    return { nodes: [...this.nodes], edges: [...this.edges] };
  }
}
