import { deleteV1Architecture, updateV1Architecture } from "@/server/compat/handlers/studio-v1-architectures";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ id: string }> };

export async function PUT(req: Request, { params }: Params) {
  return updateV1Architecture(req, await params);
}

export async function DELETE(req: Request, { params }: Params) {
  return deleteV1Architecture(req, await params);
}
