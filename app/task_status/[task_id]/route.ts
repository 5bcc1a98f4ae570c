import { getTaskStatus } from "@/server/compat/handlers/task-status";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ task_id: string }> }) {
  return getTaskStatus(req, { taskId: (await params).task_id });
}
