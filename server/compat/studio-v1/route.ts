import type { Ctx } from "@/server/context";
import type { RouteContext } from "@/server/http/handler";
import { parsePathId } from "@/server/http/input";
import { restRouteOn } from "@/server/http/rest-route";

/**
 * A seed 002 route on one record: the id read from its path (one that names nothing is a 404 naming
 * the entity, after the caller is checked), errors in FastAPI's `{detail}` shape.
 */
export function v1RecordRoute(entity: string, work: (ctx: Ctx, id: number, req: Request, route: RouteContext<"id">) => Promise<Response>, options: { multipart?: boolean } = {}) {
  return restRouteOn<"id">((ctx, params, req, route) => work(ctx, parsePathId(params.id, entity), req, route), options);
}
