import { exportV1Weights } from "@/server/compat/handlers/studio-v1-weights";

export const dynamic = "force-dynamic";

export async function POST(req: Request, { params }: { params: Promise<{ id: string }> }) {
  return exportV1Weights(req, await params);
}
