import { downloadWeightsRoute } from "@/server/weights/routes";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  return downloadWeightsRoute(req, await params);
}
