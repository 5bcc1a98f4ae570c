// What the model builder asks while editing (nothing saved): the node types, templates, live
// analysis with the compiler's error as data, YAML in and out, and the code view.
import type { z } from "zod";
import { Invalid } from "@/server/errors";
import { nodeTypeCatalog } from "@/server/ml/graph/catalog";
import { graphToPytorch } from "@/server/ml/graph/code/pytorch";
import { graphToTfjs } from "@/server/ml/graph/code/tfjs";
import { analyzeGraph, GraphError, mergedEdges, type GraphSummary, type ModelGraph } from "@/server/ml/graph/index";
import { ultralyticsInfo, type UltralyticsInfo } from "@/server/ml/graph/ultralytics-info";
import { graphToUltralyticsYaml, parseUltralyticsYaml, UltralyticsYamlError, type YamlImport } from "@/server/ml/graph/ultralytics-yaml";
import { zooTemplateGraph, zooTemplates } from "@/server/ml/zoo/templates";
import type { exportYamlInput, graphCodeInput, inspectGraphInput, parseYamlInput, templateInput } from "./schemas";

export interface GraphProblem {
  message: string;
  nodeId: string | null;
  field: string | null;
}

export interface GraphInspection {
  /** With an error: the part of the graph before the failing node, so its shapes still show. */
  summary: GraphSummary | null;
  /** Ultralytics' model.info() figures at the same image size. */
  ultralytics: UltralyticsInfo | null;
  error: GraphProblem | null;
}

export const nodeTypes = () => nodeTypeCatalog();
export const templates = () => zooTemplates();

export function template(input: z.output<typeof templateInput>): ModelGraph {
  try {
    return zooTemplateGraph(input.name, { numClasses: input.numClasses, scale: input.scale });
  } catch (error) {
    throw new Invalid((error as Error).message, { name: [(error as Error).message] });
  }
}

/** The analysis, or the compiler's first error naming the node and field (the editor draws it there). */
export function inspectGraph(input: z.output<typeof inspectGraphInput>): GraphInspection {
  const graph = input.graph as unknown as ModelGraph;
  try {
    const summary = analyzeGraph(graph, [input.imgsz, input.imgsz, 3]);
    return { summary, ultralytics: ultralyticsInfo(graph, input.imgsz), error: null };
  } catch (error) {
    if (!(error instanceof GraphError)) throw error;
    const upstream = error.nodeId ? upstreamSummary(graph, error.nodeId, input.imgsz) : null;
    return { summary: upstream, ultralytics: null, error: { message: error.message, nodeId: error.nodeId ?? null, field: error.field ?? null } };
  }
}

/** The analysis of the graph without the failing node and everything that reads from it (null if that fails too). */
function upstreamSummary(graph: ModelGraph, failing: string, imgsz: number): GraphSummary | null {
  const edges = mergedEdges(graph);
  const cut = new Set([failing]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const e of edges) {
      if (cut.has(e.source) && !cut.has(e.target)) {
        cut.add(e.target);
        grew = true;
      }
    }
  }
  const nodes = graph.nodes.filter((n) => !cut.has(n.id)).map(({ inputs: _i, outputs: _o, ...n }) => n);
  if (nodes.length === 0) return null;
  try {
    return analyzeGraph({ nodes, edges: edges.filter((e) => !cut.has(e.source) && !cut.has(e.target)) }, [imgsz, imgsz, 3]);
  } catch {
    return null;
  }
}

export function yamlInvalid(error: unknown): never {
  if (error instanceof UltralyticsYamlError) throw new Invalid(error.message, { yaml: [error.message] });
  throw error;
}

export function parseYaml(input: z.output<typeof parseYamlInput>): YamlImport {
  try {
    return parseUltralyticsYaml(input.yaml, { scale: input.scale, nc: input.nc, fileName: input.fileName });
  } catch (error) {
    return yamlInvalid(error);
  }
}

export function exportYaml(input: z.output<typeof exportYamlInput>): string {
  try {
    return graphToUltralyticsYaml(input.graph as unknown as ModelGraph, { name: input.name });
  } catch (error) {
    if (error instanceof UltralyticsYamlError) throw new Invalid(error.message, { graph: [error.message] });
    throw error;
  }
}

export function graphCode(input: z.output<typeof graphCodeInput>): string {
  const graph = input.graph as unknown as ModelGraph;
  const inputShape: [number, number, number] = [input.imgsz, input.imgsz, 3];
  try {
    return input.language === "pytorch" ? graphToPytorch(graph, { inputShape }) : graphToTfjs(graph, { inputShape });
  } catch (error) {
    if (error instanceof GraphError) throw new Invalid(error.message, { graph: [error.message] });
    throw error;
  }
}
