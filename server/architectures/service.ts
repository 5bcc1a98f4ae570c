import { and, asc, desc, eq, inArray, max, sql } from "drizzle-orm";
import type { z } from "zod";
import { architectures, architectureVersions, experiments, projects, users } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Conflict, Invalid, isUniqueViolation, NotFound, parseInput } from "@/server/errors";
import { analyzeGraph, GraphError, type GraphSummary, type ModelGraph } from "@/server/ml/graph/index";
import { getProject } from "@/server/projects/service";
import { parseYaml } from "./editor";
import { analyzeArchitectureInput, createArchitectureInput, importYamlInput, listArchitecturesInput, updateArchitectureInput } from "./schemas";

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

/** The summary as rows keep it: one entry per node, without the blocks' inner layers (the editor asks for those live). */
function stored(summary: GraphSummary): Record<string, unknown> {
  return { ...summary, nodes: summary.nodes.map(({ inner: _inner, ...node }) => node) };
}

/** The team's architectures with when an experiment last used each (null: never). */
export async function listArchitectures(ctx: Ctx, input: z.input<typeof listArchitecturesInput> = {}) {
  const lastUsed = ctx.db
    .select({ architectureId: experiments.architectureId, at: max(experiments.createdAt).as("last_used_at") })
    .from(experiments)
    .groupBy(experiments.architectureId)
    .as("last_used");
  const rows = await ctx.db
    .select({ architecture: architectures, lastUsedAt: lastUsed.at })
    .from(architectures)
    .innerJoin(projects, eq(projects.id, architectures.projectId))
    .leftJoin(lastUsed, eq(lastUsed.architectureId, architectures.id))
    .where(and(eq(projects.teamId, ctx.caller.teamId), input.projectId ? eq(architectures.projectId, input.projectId) : undefined))
    .orderBy(asc(architectures.name));
  return rows.map((r) => ({ ...r.architecture, lastUsedAt: r.lastUsedAt ?? null }));
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

type Tx = Parameters<Parameters<Ctx["db"]["transaction"]>[0]>[0];

async function recordVersion(tx: Tx, ctx: Ctx, row: typeof architectures.$inferSelect) {
  const [{ latest }] = await tx.select({ latest: max(architectureVersions.version) }).from(architectureVersions).where(eq(architectureVersions.architectureId, row.id));
  await tx.insert(architectureVersions).values({ architectureId: row.id, version: (latest ?? 0) + 1, name: row.name, graph: row.graph, summary: row.summary, createdBy: ctx.caller.userId });
}

export async function createArchitecture(ctx: Ctx, rawInput: z.input<typeof createArchitectureInput>) {
  requireRole(ctx, "member");
  const input = parseInput(createArchitectureInput, rawInput);
  await getProject(ctx, input.projectId);
  const summary = analyzeArchitecture({ graph: input.graph });
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(architectures)
        .values({ projectId: input.projectId, name: input.name, description: input.description, task: input.task, graph: input.graph, summary: stored(summary), createdBy: ctx.caller.userId })
        .returning();
      await recordVersion(tx, ctx, row);
      return row;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate(input.name);
    throw error;
  }
}

/** A new graph is a new version; a rename or a new description alone is not. */
export async function updateArchitecture(ctx: Ctx, rawInput: z.input<typeof updateArchitectureInput>) {
  requireRole(ctx, "member");
  const input = parseInput(updateArchitectureInput, rawInput);
  const current = await getArchitecture(ctx, input.id);
  const graph = input.graph ?? current.graph;
  const summary = input.graph ? analyzeArchitecture({ graph: input.graph }) : current.summary;
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .update(architectures)
        .set({ name: input.name ?? current.name, description: input.description ?? current.description, graph, summary: input.graph ? stored(summary as GraphSummary) : current.summary, updatedAt: new Date() })
        .where(eq(architectures.id, input.id))
        .returning();
      if (input.graph) await recordVersion(tx, ctx, row);
      return row;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate(input.name ?? current.name);
    throw error;
  }
}

/** Ultralytics model YAML as a new architecture; its task is the file's (Detect → detect). */
export async function importArchitectureYaml(ctx: Ctx, rawInput: z.input<typeof importYamlInput>) {
  const input = parseInput(importYamlInput, rawInput);
  const parsed = parseYaml(input);
  const architecture = await createArchitecture(ctx, {
    projectId: input.projectId,
    name: input.name,
    description: input.description,
    task: parsed.task,
    graph: parsed.graph as unknown as z.output<typeof createArchitectureInput>["graph"],
  });
  return { architecture, warnings: parsed.warnings, scale: parsed.scale };
}

/** Newest first: who saved each version, when, and its totals (the editor shows the change). */
export async function listArchitectureVersions(ctx: Ctx, id: number) {
  await getArchitecture(ctx, id);
  const rows = await ctx.db
    .select({
      version: architectureVersions.version,
      name: architectureVersions.name,
      createdAt: architectureVersions.createdAt,
      author: sql<string | null>`coalesce(nullif(${users.name}, ''), ${users.email})`,
      totalParams: sql<number | null>`(${architectureVersions.summary} ->> 'totalParams')::bigint`,
      totalFlops: sql<number | null>`(${architectureVersions.summary} ->> 'totalFlops')::float8`,
    })
    .from(architectureVersions)
    .leftJoin(users, eq(users.id, architectureVersions.createdBy))
    .where(eq(architectureVersions.architectureId, id))
    .orderBy(desc(architectureVersions.version));
  return rows.map((r) => ({ ...r, totalParams: r.totalParams === null ? null : Number(r.totalParams) }));
}

export async function getArchitectureVersion(ctx: Ctx, id: number, version: number) {
  await getArchitecture(ctx, id);
  const [row] = await ctx.db
    .select()
    .from(architectureVersions)
    .where(and(eq(architectureVersions.architectureId, id), eq(architectureVersions.version, version)));
  if (!row) throw new NotFound(`Architecture ${id} has no version ${version}`);
  return row;
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
