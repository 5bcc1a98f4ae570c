import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import { getExperiment } from "@/server/experiments/queries";
import { withCaller, type HandlerDeps, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { getProjectByName } from "@/server/projects/service";
import { trainingModuleError } from "./mapper";

/** Seed 000's handlers check their caller themselves and answer errors as `{success: false, error}`. */

type Project = Awaited<ReturnType<typeof getProjectByName>>;

export function moduleRoute(work: (ctx: Ctx, req: Request, route: RouteDeps) => Promise<Response>) {
  return (req: Request, route: RouteDeps = {}): Promise<Response> => withCaller(req, trainingModuleError, (ctx) => work(ctx, req, route), { db: route.db });
}

/** A route under `…/<project_name>/…`: the team's project of that name (a 404 when it has none) and the path's other parameters. */
export function projectRoute<P extends string = never, D extends HandlerDeps = HandlerDeps>(
  work: (ctx: Ctx, project: Project, req: Request, params: Record<P, string>, route: RouteContext<P | "project_name"> & D) => Promise<Response>,
) {
  return async (req: Request, route: RouteContext<P | "project_name"> & D): Promise<Response> => {
    const params = await route.params;
    return withCaller(req, trainingModuleError, async (ctx) => work(ctx, await getProjectByName(ctx, params.project_name), req, params, route), { db: route.db });
  };
}

/** The project's experiment `id`; another project's (or team's) reads as missing. */
export async function projectTask(ctx: Ctx, project: Project, id: number) {
  const experiment = await getExperiment(ctx, id).catch((error: unknown) => {
    if (error instanceof NotFound) return null;
    throw error;
  });
  if (!experiment || experiment.projectId !== project.id) throw new NotFound(`Task ${id} not found in project "${project.name}"`);
  return experiment;
}
