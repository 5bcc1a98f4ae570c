import { downloadV1Weights } from "@/server/compat/handlers/studio-v1-weights";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  return downloadV1Weights(req, await params);
}
