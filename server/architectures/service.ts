import { and, asc, eq, inArray } from "drizzle-orm";
import type { z } from "zod";
import { architectures, experiments, projects } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Conflict, Invalid, isUniqueViolation, NotFound } from "@/server/errors";
import { analyzeGraph, GraphError, type GraphSummary, type ModelGraph } from "@/server/ml/graph/index";
import type { analyzeArchitectureInput, createArchitectureInput, listArchitecturesInput, updateArchitectureInput } from "./schemas";

/** The summary is computed for this input size when saving; the editor may analyse at others. */
export const SUMMARY_IMGSZ = 64;

/** Per-node shapes, params and FLOPs; an invalid graph is an Invalid error naming the node. */
export function analyzeArchitecture(input: z.input<typeof analyzeArchitectureInput>): GraphSummary {
  const imgsz = input.imgsz ?? SUMMARY_IMGSZ;
  try {
    return analyzeGraph(input.graph as unknown as ModelGraph, [imgsz, imgsz, 3]);
  } catch (error) {
    if (error instanceof GraphError) {
      const field = error.nodeId ? `graph.nodes.${error.nodeId}${error.field ? `.${error.field}` : ""}` : "graph";
      throw new Invalid(error.message, { [field]: [error.message] });
    }
    throw error;
  }
}

async function teamProjectId(ctx: Ctx, projectId: number) {
  const [row] = await ctx.db.select({ id: projects.id }).from(projects).where(and(eq(projects.id, projectId), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Project ${projectId} not found`);
}

export async function listArchitectures(ctx: Ctx, input: z.input<typeof listArchitecturesInput> = {}) {
  const rows = await ctx.db
    .select({ architecture: architectures })
    .from(architectures)
    .innerJoin(projects, eq(projects.id, architectures.projectId))
    .where(and(eq(projects.teamId, ctx.caller.teamId), input.projectId ? eq(architectures.projectId, input.projectId) : undefined))
    .orderBy(asc(architectures.name));
  return rows.map((r) => r.architecture);
}

export async function getArchitecture(ctx: Ctx, id: number) {
  const [row] = await ctx.db
    .select({ architecture: architectures })
    .from(architectures)
    .innerJoin(projects, eq(projects.id, architectures.projectId))
    .where(and(eq(architectures.id, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Architecture ${id} not found`);
  return row.architecture;
}

const duplicate = (name: string) => new Conflict(`An architecture named "${name}" already exists in this project`, { name: ["already taken"] });

export async function createArchitecture(ctx: Ctx, input: z.output<typeof createArchitectureInput>) {
  requireRole(ctx, "member");
  await teamProjectId(ctx, input.projectId);
  const summary = analyzeArchitecture({ graph: input.graph });
  try {
    const [row] = await ctx.db
      .insert(architectures)
      .values({ projectId: input.projectId, name: input.name, description: input.description, task: input.task, graph: input.graph, summary: { ...summary }, createdBy: ctx.caller.userId })
      .returning();
    return row;
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate(input.name);
    throw error;
  }
}

export async function updateArchitecture(ctx: Ctx, input: z.output<typeof updateArchitectureInput>) {
  requireRole(ctx, "member");
  const current = await getArchitecture(ctx, input.id);
  const graph = input.graph ?? current.graph;
  const summary = input.graph ? analyzeArchitecture({ graph: input.graph }) : current.summary;
  try {
    const [row] = await ctx.db
      .update(architectures)
      .set({ name: input.name ?? current.name, description: input.description ?? current.description, graph, summary: { ...summary }, updatedAt: new Date() })
      .where(eq(architectures.id, input.id))
      .returning();
    return row;
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate(input.name ?? current.name);
    throw error;
  }
}

/** Refused while an experiment that uses it is queued or running; finished experiments keep their history. */
export async function deleteArchitecture(ctx: Ctx, id: number) {
  requireRole(ctx, "member");
  await getArchitecture(ctx, id);
  const inUse = await ctx.db
    .select({ id: experiments.id, status: experiments.status })
    .from(experiments)
    .where(and(eq(experiments.architectureId, id), inArray(experiments.status, ["queued", "running", "pausing", "stopping"])))
    .limit(3);
  if (inUse.length > 0) throw new Conflict(`Architecture ${id} is used by experiment(s) ${inUse.map((e) => `${e.id} (${e.status})`).join(", ")}`);
  await ctx.db.delete(architectures).where(eq(architectures.id, id));
}
