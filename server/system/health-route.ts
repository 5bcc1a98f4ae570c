import { getDb } from "@/db/client";
import { authenticate } from "@/server/auth/callers";
import { checkHealth, publicHealth, type HealthReport } from "./health";

// Load balancers poll this often: one real check per second is answer enough for all of them.
const FRESH_MS = 1_000;
let last: { at: number; report: Promise<HealthReport> } | undefined;

/**
 * `GET /api/health`: open without login (load balancers, the start command), then only each check's
 * status; a logged-in caller also gets the details (versions, workers, errors).
 */
export async function healthRoute(req: Request): Promise<Response> {
  if (!last || Date.now() - last.at > FRESH_MS) last = { at: Date.now(), report: checkHealth() };
  const report = await last.report;
  const credentials = { authorization: req.headers.get("authorization"), cookie: req.headers.get("cookie") };
  const caller = credentials.authorization || credentials.cookie ? await authenticate(getDb().db, credentials).catch(() => null) : null;
  return Response.json(caller ? report : publicHealth(report), { status: report.status === "up" ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
