import { withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { createDatasetV1, listDatasetsV1 } from "@/server/datasets/rest-v1";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return withCaller(req, studioV1Error, (ctx) => listDatasetsV1(ctx, new URL(req.url)));
}

export async function POST(req: Request) {
  return withCaller(req, studioV1Error, (ctx) => createDatasetV1(req, ctx), { multipart: true });
}
