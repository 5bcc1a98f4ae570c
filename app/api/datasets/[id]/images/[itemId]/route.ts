import { withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { serveDatasetImage } from "@/server/datasets/images";
import { parsePathId } from "@/server/http/input";

export const dynamic = "force-dynamic";

/** A dataset image (`?thumb=1`: its thumbnail) for a logged-in client: session cookie or Bearer. */
export async function GET(req: Request, { params }: { params: Promise<{ id: string; itemId: string }> }) {
  const { id, itemId } = await params;
  const thumb = new URL(req.url).searchParams.get("thumb") === "1";
  return withCaller(req, studioV1Error, (ctx) => serveDatasetImage(ctx, parsePathId(id, "Dataset"), parsePathId(itemId, "Image"), thumb));
}
