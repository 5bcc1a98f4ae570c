import { predictUploadRoute } from "@/server/inference/routes";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return predictUploadRoute(req);
}
