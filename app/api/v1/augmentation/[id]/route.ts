import { withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { deleteAugmentationV1, updateAugmentationV1 } from "@/server/augmentations/rest-v1";
import { parsePathId } from "@/server/http/input";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ id: string }> };

export async function PUT(req: Request, { params }: Params) {
  const { id } = await params;
  return withCaller(req, studioV1Error, (ctx) => updateAugmentationV1(req, ctx, parsePathId(id, "Augmentation pipeline")));
}

export async function DELETE(req: Request, { params }: Params) {
  const { id } = await params;
  return withCaller(req, studioV1Error, (ctx) => deleteAugmentationV1(ctx, parsePathId(id, "Augmentation pipeline")));
}
