import { exportModel } from "@/server/compat/handlers/training-module-weights";

export const dynamic = "force-dynamic";

export async function POST(req: Request, { params }: { params: Promise<{ project_name: string; task_id: string }> }) {
  const { project_name, task_id } = await params;
  return exportModel(req, { projectName: project_name, taskId: task_id });
}
