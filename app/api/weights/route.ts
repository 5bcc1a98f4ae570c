import { uploadWeightsRoute } from "@/server/weights/routes";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return uploadWeightsRoute(req);
}
