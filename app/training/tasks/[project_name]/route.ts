import { listTasks } from "@/server/compat/handlers/training-module";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ project_name: string }> }) {
  return listTasks(req, { projectName: (await params).project_name });
}
