import { withCaller, type RouteContext } from "@/server/http/handler";
import { parsePathId } from "@/server/http/input";
import { servePlot } from "./plots";
import { restError } from "@/server/http/rest-error";

/** `GET /api/experiments/{id}/plots/{name}`: a PNG of the run's plots/ folder (results.png, confusion_matrix.png …). */
export async function plotRoute(req: Request, route: RouteContext<"id" | "name">): Promise<Response> {
  const { id, name } = await route.params;
  return withCaller(req, restError, (ctx) => servePlot(ctx, parsePathId(id, "Experiment"), name), { db: route.db });
}
