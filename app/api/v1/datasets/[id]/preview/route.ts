import { withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { parseId, previewDatasetV1 } from "@/server/datasets/rest-v1";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return withCaller(req, studioV1Error, (ctx) => previewDatasetV1(ctx, parseId(id), new URL(req.url)));
}
