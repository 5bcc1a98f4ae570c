import { z } from "zod";
import { architectures } from "@/db/schema";
import { createArchitecture, deleteArchitecture, getArchitecture, listArchitectures, updateArchitecture } from "@/server/architectures/service";
import { readJson, withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { invalidFromZod } from "@/server/errors";
import { defaultProject } from "@/server/projects/service";
import { parseStudioV1Id } from "./mapper";
import { isoSecondsZ } from "@/server/compat/shared/experiment-common";
import { restError } from "@/server/http/rest-error";

/** Seed 002 §2.4.A (`/api/v1/models/architectures…`): the graphs of the old studio's model builder. */

type Architecture = typeof architectures.$inferSelect;

/** The seed's `{name, nodes, edges}` plus what the studio knows about the graph. */
export function studioV1Architecture(row: Architecture) {
  const summary = row.summary as { totalParams?: number; totalFlops?: number; outputShapes?: number[][] };
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    task: row.task,
    nodes: row.graph.nodes,
    edges: row.graph.edges,
    params: summary.totalParams ?? null,
    flops: summary.totalFlops ?? null,
    output_shapes: summary.outputShapes ?? null,
    created_at: isoSecondsZ(row.createdAt),
    updated_at: isoSecondsZ(row.updatedAt),
  };
}

const nodes = z.array(z.record(z.string(), z.unknown()), { error: "nodes must be a list of nodes" }).min(1, "a graph needs at least one node");
const edges = z.array(z.record(z.string(), z.unknown()), { error: "edges must be a list of edges" }).default([]);
const createBody = z.object({ name: z.string().trim().min(1).max(120), description: z.string().max(2000).optional(), task: z.enum(["classify", "detect"]).optional(), nodes, edges });
const updateBody = z.object({ name: z.string().trim().min(1).max(120).optional(), description: z.string().max(2000).optional(), nodes: nodes.optional(), edges: edges.optional() });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalidFromZod(parsed.error.issues);
  return parsed.data;
}

export function listV1Architectures(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, async (ctx) => Response.json((await listArchitectures(ctx)).map(studioV1Architecture)), { db: route.db });
}

/** The old studio has no projects: new graphs go to the team's default project. */
export function createV1Architecture(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const body = parse(createBody, await readJson(req));
      const project = await defaultProject(ctx);
      const row = await createArchitecture(ctx, {
        projectId: project.id,
        name: body.name,
        description: body.description ?? "",
        task: body.task ?? "classify",
        graph: { nodes: body.nodes, edges: body.edges },
      });
      return Response.json(studioV1Architecture(row), { status: 201 });
    },
    { db: route.db },
  );
}

/** PUT overwrites: name and graph (nodes and edges together, or nodes alone keeping no edges). */
export async function updateV1Architecture(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const id = parseStudioV1Id(params.id, "Architecture");
      const body = parse(updateBody, await readJson(req));
      const current = await getArchitecture(ctx, id);
      const graph = body.nodes ? { nodes: body.nodes, edges: body.edges ?? [] } : body.edges ? { nodes: current.graph.nodes as Record<string, unknown>[], edges: body.edges } : undefined;
      const row = await updateArchitecture(ctx, { id, name: body.name, description: body.description, graph });
      return Response.json(studioV1Architecture(row));
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
