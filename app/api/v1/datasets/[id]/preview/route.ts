import { withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { previewDatasetV1 } from "@/server/datasets/rest-v1";
import { parsePathId } from "@/server/http/input";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return withCaller(req, studioV1Error, (ctx) => previewDatasetV1(ctx, parsePathId(id, "Dataset"), new URL(req.url)));
}
