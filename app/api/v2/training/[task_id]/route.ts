import { getTraining } from "@/server/compat/handlers/training-metrics";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ task_id: string }> }) {
  return getTraining(req, { taskId: (await params).task_id });
}
