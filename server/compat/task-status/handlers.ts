import { and, eq } from "drizzle-orm";
import { experimentLogs } from "@/db/schema";
import { withCaller, type RouteContext } from "@/server/http/handler";
import { env } from "@/server/env";
import { getExperiment } from "@/server/experiments/queries";
import { parseTaskStatusId, taskStatusError, taskStatusReply } from "./mapper";

/** Seed 004: `GET /task_status/<task_id>`. */
export async function getTaskStatus(req: Request, route: RouteContext<"task_id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    (err) => taskStatusError(err, params.task_id),
    async (ctx) => {
      const experiment = await getExperiment(ctx, parseTaskStatusId(params.task_id));
      // Clients poll this hard: the latest line's stage by its unique (experiment, seq) key; the experiment is the caller's, checked above.
      const [latest] =
        experiment.logSeq > 0
          ? await ctx.db
              .select({ stage: experimentLogs.stage })
              .from(experimentLogs)
              .where(and(eq(experimentLogs.experimentId, experiment.id), eq(experimentLogs.seq, experiment.logSeq)))
          : [];
      const reply = taskStatusReply(experiment, latest?.stage ?? null, env().dataDir);
      return Response.json(reply.body, { status: reply.httpStatus });
    },
    { db: route.db },
  );
}
