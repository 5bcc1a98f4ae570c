import { checkHealth, type HealthReport } from "@/server/system/health";

export const dynamic = "force-dynamic";

// Load balancers poll this often: one real check per second is answer enough for all of them.
const FRESH_MS = 1_000;
let last: { at: number; report: Promise<HealthReport> } | undefined;

/** Open without login (load balancers, the start command): reports status only, no user data. */
export async function GET() {
  if (!last || Date.now() - last.at > FRESH_MS) last = { at: Date.now(), report: checkHealth() };
  const report = await last.report;
  return Response.json(report, { status: report.status === "up" ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
