import type { Ctx } from "@/server/context";
import { withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { parsePathId } from "@/server/http/input";
import { restError } from "@/server/http/rest-error";

/**
 * Seed 002's route handlers: each checks its caller itself (withCaller) and answers errors in
 * FastAPI's `{detail}` shape. A record's route also reads the id from its path: one that names
 * nothing is a 404 naming the entity, after the caller is checked.
 */

interface RouteOptions {
  multipart?: boolean;
}

export function v1Route(work: (ctx: Ctx, req: Request, route: RouteDeps) => Promise<Response>, options: RouteOptions = {}) {
  return (req: Request, route: RouteDeps = {}): Promise<Response> => withCaller(req, restError, (ctx) => work(ctx, req, route), { ...options, db: route.db });
}

export function v1RecordRoute(entity: string, work: (ctx: Ctx, id: number, req: Request, route: RouteContext<"id">) => Promise<Response>, options: RouteOptions = {}) {
  return async (req: Request, route: RouteContext<"id">): Promise<Response> => {
    const params = await route.params;
    return withCaller(req, restError, (ctx) => work(ctx, parsePathId(params.id, entity), req, route), { ...options, db: route.db });
  };
}

/** 204 and no body, as seed 002's status table answers updates and deletes. */
export function noContent(): Response {
  return new Response(null, { status: 204 });
}
