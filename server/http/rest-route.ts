import type { Ctx } from "@/server/context";
import { withCaller, type HandlerDeps, type RouteContext, type RouteDeps } from "./handler";
import { restError } from "./rest-error";

/**
 * Handlers of the faces that answer errors as FastAPI does (`{detail}`: seeds 001–003 and the
 * studio's own REST routes): each checks its caller itself (withCaller); `restRouteOn` also hands
 * over the path's parameters.
 */

interface RouteOptions {
  multipart?: boolean;
}

export function restRoute(work: (ctx: Ctx, req: Request, route: RouteDeps) => Promise<Response>, options: RouteOptions = {}) {
  return (req: Request, route: RouteDeps = {}): Promise<Response> => withCaller(req, restError, (ctx) => work(ctx, req, route), { ...options, db: route.db });
}

export function restRouteOn<P extends string, D extends HandlerDeps = HandlerDeps>(
  work: (ctx: Ctx, params: Record<P, string>, req: Request, route: RouteContext<P> & D) => Promise<Response>,
  options: RouteOptions = {},
) {
  return async (req: Request, route: RouteContext<P> & D): Promise<Response> => {
    const params = await route.params;
    return withCaller(req, restError, (ctx) => work(ctx, params, req, route), { ...options, db: route.db });
  };
}

/** 204 and no body: what these faces answer for updates and deletes. */
export function noContent(): Response {
  return new Response(null, { status: 204 });
}
