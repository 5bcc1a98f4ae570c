import { withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { deleteDatasetV1, getDatasetV1, updateDatasetV1 } from "@/server/datasets/rest-v1";
import { parsePathId } from "@/server/http/input";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ id: string }> };

export async function GET(req: Request, { params }: Params) {
  const { id } = await params;
  return withCaller(req, studioV1Error, (ctx) => getDatasetV1(ctx, parsePathId(id, "Dataset")));
}

export async function PUT(req: Request, { params }: Params) {
  const { id } = await params;
  return withCaller(req, studioV1Error, (ctx) => updateDatasetV1(req, ctx, parsePathId(id, "Dataset")));
}

export async function DELETE(req: Request, { params }: Params) {
  const { id } = await params;
  return withCaller(req, studioV1Error, (ctx) => deleteDatasetV1(ctx, parsePathId(id, "Dataset")));
}
