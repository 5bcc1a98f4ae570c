import { withCaller, type RouteContext, type RouteDeps } from "@/server/http/handler";
import { parsePathId } from "@/server/http/input";
import { serveDatasetImage } from "./images";
import { importUploadedDataset } from "./upload";
import { restError } from "@/server/http/rest-error";

/**
 * The studio's own HTTP routes for what tRPC cannot carry: the streamed `.zip` upload (with the page's
 * progress bar) and the images. A session cookie or a Bearer credential; errors as `{detail}`.
 */

/** `POST /api/datasets` (multipart `file`, `name?`, `description?`, `project_id?`) → 201 and the new dataset, importing. */
export function uploadDatasetRoute(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, async (ctx) => Response.json(await importUploadedDataset(ctx, req), { status: 201 }), { multipart: true, db: route.db });
}

/** `GET /api/datasets/{id}/images/{itemId}` (`?thumb=1`: its thumbnail). */
export async function datasetImageRoute(req: Request, route: RouteContext<"id" | "itemId">): Promise<Response> {
  const { id, itemId } = await route.params;
  const thumb = new URL(req.url).searchParams.get("thumb") === "1";
  return withCaller(req, restError, (ctx) => serveDatasetImage(ctx, parsePathId(id, "Dataset"), parsePathId(itemId, "Image"), thumb), { db: route.db });
}
