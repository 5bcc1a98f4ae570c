import { z } from "zod";
import { freeText, nameText, recordId } from "@/server/http/input";

const id = recordId;

/** The graph as the old studio stores it; the engine's compiler checks the rest (types, shapes). */
export const graphInput = z.object({
  nodes: z.array(z.record(z.string(), z.unknown())).min(1, "a graph needs at least one node"),
  edges: z.array(z.record(z.string(), z.unknown())).default([]),
});

export const architectureName = nameText(120);

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
export const listArchitecturesInput = z.object({ projectId: id.optional() }).default({});
/** Live shape summary for the editor, without saving. */
export const analyzeArchitectureInput = z.object({ graph: graphInput, imgsz: z.number().int().min(8).max(2048).default(64) });
