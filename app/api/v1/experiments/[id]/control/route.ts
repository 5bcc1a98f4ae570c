import { controlV1Experiment } from "@/server/compat/handlers/studio-v1-experiments";

export const dynamic = "force-dynamic";

export async function POST(req: Request, { params }: { params: Promise<{ id: string }> }) {
  return controlV1Experiment(req, await params);
}
