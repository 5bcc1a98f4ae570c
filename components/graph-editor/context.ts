import { createContext, useContext } from "react";

/** A node type as the engine's catalog describes it (architectures.nodeTypes). */
export interface FieldInfo {
  name: string;
  schema: Record<string, unknown>;
  required: boolean;
}
export interface NodeTypeInfo {
  type: string;
  aliases: string[];
  description: string;
  category: string;
  kind: "layer" | "block";
  inputs: { min: number; max: number };
  fields: FieldInfo[];
}

export interface NodeSummaryView {
  id: string;
  type: string;
  outputShape: number[];
  params: number;
  trainableParams: number;
  flops: number;
  inputs?: string[];
  inner?: NodeSummaryView[];
}

export interface GraphProblemView {
  message: string;
  nodeId: string | null;
  field: string | null;
}

export interface EditorState {
  catalog: Map<string, NodeTypeInfo>;
  summaries: Map<string, NodeSummaryView>;
  error: GraphProblemView | null;
  expanded: Set<string>;
  toggleExpanded(id: string): void;
}

export const EditorContext = createContext<EditorState>({
  catalog: new Map(),
  summaries: new Map(),
  error: null,
  expanded: new Set(),
  toggleExpanded: () => {},
});

export const useEditor = () => useContext(EditorContext);

/** Looks a type up by name or alias, case-insensitively, as the engine does. */
export function findType(catalog: Map<string, NodeTypeInfo>, type: string): NodeTypeInfo | undefined {
  const direct = catalog.get(type);
  if (direct) return direct;
  const lower = type.toLowerCase();
  for (const info of catalog.values()) if (info.type.toLowerCase() === lower || info.aliases.some((a) => a.toLowerCase() === lower)) return info;
  return undefined;
}
