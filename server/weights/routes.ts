import { withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { parsePathId } from "@/server/http/input";
import { downloadResponse, weightsDownload } from "./download";
import { importUploadedWeights } from "./upload";
import { restError } from "@/server/http/rest-error";

/**
 * The studio's own HTTP routes for what tRPC cannot carry: the streamed upload (with the page's
 * progress bar) and the download. A session cookie or a Bearer credential; errors as `{detail}`.
 */

/** `POST /api/weights` (multipart) → 201 and the new entry. */
export function uploadWeightsRoute(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, async (ctx) => Response.json(await importUploadedWeights(ctx, req), { status: 201 }), { multipart: true, db: route.db });
}

/** `GET /api/weights/{id}/download`: the file as an attachment, streamed, with Range requests. */
export async function downloadWeightsRoute(req: Request, route: RouteContext<"id">): Promise<Response> {
  const { id } = await route.params;
  return withCaller(req, restError, async (ctx) => downloadResponse(await weightsDownload(ctx, parsePathId(id, "Weights")), req), { db: route.db });
}
