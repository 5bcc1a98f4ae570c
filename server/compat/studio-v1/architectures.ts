import { z } from "zod";
import { modelYaml } from "@/server/architectures/schemas";
import { createArchitecture, deleteArchitecture, getArchitecture, importArchitectureYaml, listArchitectures, updateArchitecture } from "@/server/architectures/service";
import { mergedEdges, type ModelGraph } from "@/server/ml/graph/index";
import { repairGraph, withAdjacency } from "@/server/ml/graph/repair";
import { readJson, withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { parseInput } from "@/server/errors";
import { defaultProject } from "@/server/projects/service";
import { parseStudioV1Id } from "./mapper";
import { isoSecondsZ } from "@/server/compat/shared/experiment-common";
import { restError } from "@/server/http/rest-error";

/** Seed 002 §2.4.A (`/api/v1/models/architectures…`): the graphs of the old studio's model builder. */

type Architecture = Awaited<ReturnType<typeof getArchitecture>>;

/** The seed's `{name, nodes, edges}` (each node with its `inputs`/`outputs` arrays) plus what the studio knows about the graph. */
export function studioV1Architecture(row: Architecture, warnings: string[] = []) {
  const summary = row.summary as { totalParams?: number; totalFlops?: number; outputShapes?: number[][] };
  const graph = row.graph as unknown as ModelGraph;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    task: row.task,
    nodes: withAdjacency(graph),
    edges: mergedEdges(graph).map((e) => ({ id: `${e.source}->${e.target}`, source: e.source, target: e.target })),
    params: summary.totalParams ?? null,
    flops: summary.totalFlops ?? null,
    output_shapes: summary.outputShapes ?? null,
    summary: row.summary,
    warnings,
    created_at: isoSecondsZ(row.createdAt),
    updated_at: isoSecondsZ(row.updatedAt),
  };
}

const nodes = z.array(z.record(z.string(), z.unknown()), { error: "nodes must be a list of nodes" }).min(1, "a graph needs at least one node");
const edgeList = z.array(z.record(z.string(), z.unknown()), { error: "edges must be a list of edges" });
const edges = edgeList.default([]);
const name = z.string().trim().min(1).max(120);
const yamlFields = { yaml: modelYaml, scale: z.string().trim().min(1).max(16).optional(), nc: z.number().int().min(1).max(10_000).optional() };
/** `{name, nodes, edges}` as the document writes it, or `{name, yaml}` (an Ultralytics model YAML) for scripts. */
export const createBody = z.union([
  z.object({ name, description: z.string().max(2000).optional(), task: z.enum(["classify", "detect"]).optional(), nodes, edges }),
  z.object({ name, description: z.string().max(2000).optional(), ...yamlFields }),
]);
export const updateBody = z.object({ name: name.optional(), description: z.string().max(2000).optional(), nodes: nodes.optional(), edges: edgeList.optional() });

/** The document's own example has dangling `outputs` and no Input node: repaired, with warnings, rather than refused. */
function repaired(graph: { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] }) {
  const { graph: fixed, warnings } = repairGraph(graph as unknown as ModelGraph);
  return { graph: fixed as unknown as { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] }, warnings };
}


export function listV1Architectures(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, async (ctx) => Response.json((await listArchitectures(ctx)).map((row) => studioV1Architecture(row))), { db: route.db });
}

/** The old studio has no projects: new graphs go to the team's default project. */
export function createV1Architecture(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const body = parseInput(createBody, await readJson(req));
      const project = await defaultProject(ctx);
      const description = body.description ?? "";
      if ("yaml" in body) {
        const { architecture, warnings } = await importArchitectureYaml(ctx, { projectId: project.id, name: body.name, description, yaml: body.yaml, scale: body.scale, nc: body.nc });
        return Response.json(studioV1Architecture(architecture, warnings), { status: 201 });
      }
      const { graph, warnings } = repaired({ nodes: body.nodes, edges: body.edges });
      const row = await createArchitecture(ctx, { projectId: project.id, name: body.name, description, task: body.task ?? "classify", graph });
      return Response.json(studioV1Architecture(row, warnings), { status: 201 });
    },
    { db: route.db },
  );
}

/** PUT saves (204, as the document's table says): name and graph; a body with only a name keeps the graph. */
export async function updateV1Architecture(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const id = parseStudioV1Id(params.id, "Architecture");
      const body = parseInput(updateBody, await readJson(req));
      const current = await getArchitecture(ctx, id);
      const given = body.nodes ? { nodes: body.nodes, edges: body.edges ?? [] } : body.edges ? { nodes: current.graph.nodes as Record<string, unknown>[], edges: body.edges } : undefined;
      await updateArchitecture(ctx, { id, name: body.name, description: body.description, graph: given && repaired(given).graph });
      return new Response(null, { status: 204 });
    },
    { db: route.db },
  );
}

export async function deleteV1Architecture(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      await deleteArchitecture(ctx, parseStudioV1Id(params.id, "Architecture"));
      return new Response(null, { status: 204 });
    },
    { db: route.db },
  );
}
