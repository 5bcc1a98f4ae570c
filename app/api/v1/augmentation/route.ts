import { withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { createAugmentationV1, listAugmentationsV1 } from "@/server/augmentations/rest-v1";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return withCaller(req, studioV1Error, (ctx) => listAugmentationsV1(ctx));
}

export async function POST(req: Request) {
  return withCaller(req, studioV1Error, (ctx) => createAugmentationV1(req, ctx));
}
