import { getV1SystemLogs } from "@/server/compat/handlers/studio-v1-system";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return getV1SystemLogs(req);
}
