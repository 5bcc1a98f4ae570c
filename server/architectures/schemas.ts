import { z } from "zod";
import { freeText, nameText, recordId } from "@/server/http/input";

const id = recordId;

/** The graph as the old studio stores it; the engine's compiler checks the rest (types, shapes). */
export const graphInput = z.object({
  nodes: z.array(z.record(z.string(), z.unknown())).min(1, "a graph needs at least one node"),
  edges: z.array(z.record(z.string(), z.unknown())).default([]),
});

export const architectureName = nameText(120);
const imgsz = z.number().int().min(8).max(2048);
/** Ultralytics model YAML text (a published file is ~2 KB). */
export const modelYaml = z.string().min(1, "the YAML is empty").max(200_000, "the YAML is longer than 200,000 characters");
const yamlScale = z.string().trim().min(1).max(16).optional();

export const createArchitectureInput = z.object({
  projectId: id,
  name: architectureName,
  description: freeText(2000).default(""),
  task: z.enum(["classify", "detect"]).default("classify"),
  graph: graphInput,
});
export const updateArchitectureInput = z.object({
  id,
  name: architectureName.optional(),
  description: freeText(2000).optional(),
  graph: graphInput.optional(),
});
export const architectureByIdInput = z.object({ id });
export const architectureVersionInput = z.object({ id, version: recordId });
export const listArchitecturesInput = z.object({ projectId: id.optional() }).default({});
/** Live shape summary for the editor, without saving. */
export const analyzeArchitectureInput = z.object({ graph: graphInput, imgsz: imgsz.default(64) });
export const inspectGraphInput = z.object({ graph: graphInput, imgsz: imgsz.default(64) });
export const importYamlInput = z.object({
  projectId: id,
  name: architectureName,
  description: freeText(2000).default(""),
  yaml: modelYaml,
  /** n, s, m, l, x…; else from fileName (yolov8s.yaml), else the file's first scale. */
  scale: yamlScale,
  fileName: z.string().max(255).optional(),
  nc: z.number().int().min(1).max(10_000).optional(),
});
/** Reads YAML into a graph without saving (the editor's import). */
export const parseYamlInput = importYamlInput.omit({ projectId: true, name: true, description: true });
export const exportYamlInput = z.object({ graph: graphInput, name: z.string().max(120).optional() });
export const graphCodeInput = z.object({ graph: graphInput, imgsz: imgsz.default(64), language: z.enum(["pytorch", "tfjs"]) });
export const templateInput = z.object({ name: z.string().min(1).max(60), scale: yamlScale, numClasses: z.number().int().min(1).max(10_000).default(80) });
