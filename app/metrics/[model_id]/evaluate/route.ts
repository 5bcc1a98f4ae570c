import { evaluateModel } from "@/server/compat/handlers/recognition-models";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ model_id: string }> };

export async function POST(req: Request, { params }: Params) {
  return evaluateModel(req, { modelId: (await params).model_id });
}
