import { getMetrics } from "@/server/compat/handlers/recognition-models";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ model_id: string }> };

export async function GET(req: Request, { params }: Params) {
  return getMetrics(req, { modelId: (await params).model_id });
}
