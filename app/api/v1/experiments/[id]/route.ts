import { deleteV1Experiment, getV1Experiment, renameV1Experiment } from "@/server/compat/handlers/studio-v1-experiments";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ id: string }> };

export async function GET(req: Request, { params }: Params) {
  return getV1Experiment(req, await params);
}

export async function PUT(req: Request, { params }: Params) {
  return renameV1Experiment(req, await params);
}

export async function DELETE(req: Request, { params }: Params) {
  return deleteV1Experiment(req, await params);
}
