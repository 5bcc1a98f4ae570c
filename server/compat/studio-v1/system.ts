import { Invalid, parseInput } from "@/server/errors";
import { listSystemLogs, listSystemLogsInput } from "@/server/system/logs";
import { currentFacts, hostStatsOf } from "@/server/system/stats";
import { studioV1SystemLog, studioV1SystemStats } from "./mapper";
import { restRoute } from "@/server/http/rest-route";

/** Seed 002 §2.1 (`/api/v1/system/…`). */

/** The newest 1 s sample of `?host=` (default: the busiest training host), as /ws/system sends it. */
export const getV1SystemStats = restRoute(async (ctx, req) => {
  const host = new URL(req.url).searchParams.get("host");
  if (host !== null && !host.trim()) throw new Invalid("host must name a training host", { host: ["must not be empty"] });
  const reading = await currentFacts(ctx.db, host ?? undefined);
  return Response.json(studioV1SystemStats(hostStatsOf(reading.facts), reading));
});

export const getV1SystemLogs = restRoute(async (ctx, req) => {
  const query = parseInput(listSystemLogsInput, Object.fromEntries(new URL(req.url).searchParams));
  return Response.json((await listSystemLogs(ctx, query)).map(studioV1SystemLog));
});
