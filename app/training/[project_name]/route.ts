import { dashboard } from "@/server/compat/handlers/training-module";

export const dynamic = "force-dynamic";

/** The training dashboard page of seed 000 (HTML). */
export async function GET(req: Request, { params }: { params: Promise<{ project_name: string }> }) {
  return dashboard(req, { projectName: (await params).project_name });
}
