import { getV1ExperimentMetrics } from "@/server/compat/handlers/studio-v1-experiments";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  return getV1ExperimentMetrics(req, await params);
}
