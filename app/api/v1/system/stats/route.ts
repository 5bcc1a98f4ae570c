import { getV1SystemStats } from "@/server/compat/handlers/studio-v1-system";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return getV1SystemStats(req);
}
