import { checkHealth } from "@/server/system/health";

export const dynamic = "force-dynamic";

/** Open without login (load balancers, the start command): reports status only, no user data. */
export async function GET() {
  const report = await checkHealth();
  return Response.json(report, { status: report.status === "up" ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
