import { taskStatus } from "@/server/compat/handlers/training-module";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ project_name: string; task_id: string }> }) {
  const { project_name, task_id } = await params;
  return taskStatus(req, { projectName: project_name, taskId: task_id });
}
