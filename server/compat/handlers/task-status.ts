import { withCaller } from "@/server/compat/http";
import { env } from "@/server/env";
import { getExperiment, getExperimentLogs } from "@/server/experiments/queries";
import { parseTaskStatusId, taskStatusError, taskStatusReply } from "../task-status";
import type { CompatDeps } from "./deps";

/** Seed 004: `GET /task_status/<task_id>`. */
export function getTaskStatus(req: Request, params: { taskId: string }, deps: CompatDeps = {}): Promise<Response> {
  return withCaller(
    req,
    taskStatusError,
    async (ctx) => {
      const experiment = await getExperiment(ctx, parseTaskStatusId(params.taskId));
      const [latest] = experiment.logSeq > 0 ? await getExperimentLogs(ctx, { id: experiment.id, since: experiment.logSeq - 1, limit: 1 }) : [];
      const reply = taskStatusReply(experiment, latest?.stage ?? null, env().dataDir);
      return Response.json(reply.body, { status: reply.httpStatus });
    },
    { db: deps.db },
  );
}
