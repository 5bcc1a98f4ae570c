import { studioV1Error } from "@/server/compat/studio-v1/mapper";
import { withCaller, type RouteContext } from "@/server/http/handler";
import { parsePathId } from "@/server/http/input";
import { servePlot } from "./plots";

/** `GET /api/experiments/{id}/plots/{name}`: a PNG of the run's plots/ folder (results.png, confusion_matrix.png …). */
export async function plotRoute(req: Request, route: RouteContext<"id" | "name">): Promise<Response> {
  const { id, name } = await route.params;
  return withCaller(req, studioV1Error, (ctx) => servePlot(ctx, parsePathId(id, "Experiment"), name), { db: route.db });
}
