import os from "node:os";
import { withCaller, type RouteDeps } from "@/server/http/handler";
import { env } from "@/server/env";
import { invalidFromZod } from "@/server/errors";
import { listSystemLogs, listSystemLogsInput } from "@/server/system/logs";
import { currentHostStats } from "@/server/system/stats";
import { studioV1SystemLog, studioV1SystemStats } from "./mapper";
import { restError } from "@/server/http/rest-error";

/** Seed 002 §2.1 (`/api/v1/system/…`). */

const gb = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;

export function getV1SystemStats(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async () => {
      const stats = await currentHostStats(env().dataDir);
      const host = { cores: os.availableParallelism(), memoryUsedGb: gb(os.totalmem() - os.freemem()), memoryTotalGb: gb(os.totalmem()) };
      return Response.json(studioV1SystemStats(stats, host));
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
      const parsed = listSystemLogsInput.safeParse(query);
      if (!parsed.success) throw invalidFromZod(parsed.error.issues);
      return Response.json((await listSystemLogs(ctx, parsed.data)).map(studioV1SystemLog));
    },
    { db: route.db },
  );
}
