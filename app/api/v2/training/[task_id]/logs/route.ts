import { streamTrainingLogs } from "@/server/compat/handlers/training-metrics";

export const dynamic = "force-dynamic";

/** Server-Sent Events; resumable with Last-Event-ID or ?since=<seq>. */
export async function GET(req: Request, { params }: { params: Promise<{ task_id: string }> }) {
  return streamTrainingLogs(req, { taskId: (await params).task_id });
}
