// What the model builder asks while editing (nothing saved): the node types, templates, live
// analysis with the compiler's error as data, YAML in and out, and the code view.
import type { z } from "zod";
import { Invalid } from "@/server/errors";
import { nodeTypeCatalog } from "@/server/ml/graph/catalog";
import { graphToPytorch } from "@/server/ml/graph/code/pytorch";
import { graphToTfjs } from "@/server/ml/graph/code/tfjs";
import { analyzeGraph, GraphError, type GraphSummary, type ModelGraph } from "@/server/ml/graph/index";
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
    return { summary: null, ultralytics: null, error: { message: error.message, nodeId: error.nodeId ?? null, field: error.field ?? null } };
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
