import { withCaller, type RouteContext } from "@/server/http/handler";
import { env } from "@/server/env";
import { getExperiment, latestLogStage } from "@/server/experiments/queries";
import { parseTaskStatusId, taskStatusError, taskStatusReply } from "./mapper";

/** Seed 004: `GET /task_status/<task_id>`. */
export async function getTaskStatus(req: Request, route: RouteContext<"task_id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    (err) => taskStatusError(err, params.task_id),
    async (ctx) => {
      const experiment = await getExperiment(ctx, parseTaskStatusId(params.task_id));
      const reply = taskStatusReply(experiment, await latestLogStage(ctx, experiment), env().dataDir);
      return Response.json(reply.body, { status: reply.httpStatus });
    },
    { db: route.db },
  );
}
