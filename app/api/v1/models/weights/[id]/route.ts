import { deleteV1Weights, getV1Weights, updateV1Weights } from "@/server/compat/handlers/studio-v1-weights";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ id: string }> };

export async function GET(req: Request, { params }: Params) {
  return getV1Weights(req, await params);
}

export async function PUT(req: Request, { params }: Params) {
  return updateV1Weights(req, await params);
}

export async function DELETE(req: Request, { params }: Params) {
  return deleteV1Weights(req, await params);
}
