import { z } from "zod";
import type { RouteTable } from "@/server/http/route-docs";

/** Seed 004's one route, as ../shared/seeds/004_… describes it. */
export const taskStatusApi: RouteTable = {
  name: "seed 004 · task status",
  description:
    "The YOLOv8 task-status query: `{code, message, data}` with `data.status` pending, progress, success or failure and the document's Chinese messages (任务等待中, 正在训练, 训练完成, 训练失败). Bearer: an API key or a JWT.",
  errorEnvelope: z.object({ code: z.literal(1), message: z.string(), data: z.object({ task_id: z.string().nullable(), status: z.literal("failure"), error: z.string() }).nullable() }),
  routes: {
    "GET /task_status/{task_id}": {
      summary: "A training task's status",
      description:
        "pending while queued, progress with the current epoch's metrics while training, success with the final metrics and the weights' path (relative to the storage root), failure with the reason — as HTTP 500, the way the document answers failures. An unknown task (or another team's) is a failure too.",
      params: { task_id: "The task's id (an experiment id)." },
      responses: { 200: "`{code: 0, message, data: {task_id, status, result?}}`." },
    },
  },
};
