import { getJob } from "@/server/compat/recognition/jobs";
import { getV1Experiment } from "@/server/compat/studio-v1/experiments";
import { getTaskStatus } from "@/server/compat/task-status/handlers";
import { getTraining } from "@/server/compat/training-metrics/handlers";
import { taskStatus } from "@/server/compat/training-module/handlers";
import type { FastRoute } from "./fast-routes";
import type { HandlerDeps } from "./handler";

// Ids are integers in every dialect; anything else (a static sibling route, a bad id) is left to Next.
const ID = /^\d+$/;

/**
 * The old dialects' status reads that clients poll hard, each mapped to the handler its Next route
 * file calls (app/task_status/[task_id]/route.ts, …). Tests pass their database; the web server
 * passes nothing.
 */
export function statusRoutes(deps: HandlerDeps = {}): FastRoute[] {
  const route = <P extends string>(params: Record<P, string>) => ({ ...deps, params: Promise.resolve(params) });
  return [
    { method: "GET", path: "/task_status/:task_id", where: { task_id: ID }, handler: (req, p) => getTaskStatus(req, route({ task_id: p.task_id })) },
    { method: "GET", path: "/api/v2/training/:task_id", where: { task_id: ID }, handler: (req, p) => getTraining(req, route({ task_id: p.task_id })) },
    { method: "GET", path: "/api/v1/experiments/:id", where: { id: ID }, handler: (req, p) => getV1Experiment(req, route({ id: p.id })) },
    {
      method: "GET",
      path: "/training/task_status/:project_name/:task_id",
      where: { task_id: ID },
      handler: (req, p) => taskStatus(req, route({ project_name: p.project_name, task_id: p.task_id })),
    },
    { method: "GET", path: "/train/:job_id", where: { job_id: ID }, handler: (req, p) => getJob(req, route({ job_id: p.job_id })) },
  ];
}
