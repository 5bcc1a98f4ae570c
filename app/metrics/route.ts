import { listMetrics } from "@/server/compat/handlers/recognition-models";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return listMetrics(req);
}
