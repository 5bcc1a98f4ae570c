import { withCaller, type RouteDeps } from "@/server/http/handler";
import { Invalid, parseInput } from "@/server/errors";
import { listSystemLogs, listSystemLogsInput } from "@/server/system/logs";
import { currentFacts, hostStatsOf } from "@/server/system/stats";
import { studioV1SystemLog, studioV1SystemStats } from "./mapper";
import { restError } from "@/server/http/rest-error";

/** Seed 002 §2.1 (`/api/v1/system/…`). */

/** The newest 1 s sample of `?host=` (default: the busiest training host), as /ws/system sends it. */
export function getV1SystemStats(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const host = new URL(req.url).searchParams.get("host");
      if (host !== null && !host.trim()) throw new Invalid("host must name a training host", { host: ["must not be empty"] });
      const reading = await currentFacts(ctx.db, host ?? undefined);
      return Response.json(studioV1SystemStats(hostStatsOf(reading.facts), reading));
    },
    { db: route.db },
  );
}

export function getV1SystemLogs(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const query = Object.fromEntries(new URL(req.url).searchParams);
      const parsed = parseInput(listSystemLogsInput, query);
      return Response.json((await listSystemLogs(ctx, parsed)).map(studioV1SystemLog));
    },
    { db: route.db },
  );
}
