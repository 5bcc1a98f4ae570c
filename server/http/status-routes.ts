import type { CompatDeps } from "@/server/compat/handlers/deps";
import { getJob } from "@/server/compat/handlers/recognition";
import { getV1Experiment } from "@/server/compat/handlers/studio-v1-experiments";
import { getTaskStatus } from "@/server/compat/handlers/task-status";
import { getTraining } from "@/server/compat/handlers/training-metrics";
import { taskStatus } from "@/server/compat/handlers/training-module";
import type { FastRoute } from "./fast-routes";

// Ids are integers in every dialect; anything else (a static sibling route, a bad id) is left to Next.
const ID = /^\d+$/;

/**
 * The old dialects' status reads that clients poll hard, each mapped to the handler its Next route
 * file calls (app/task_status/[task_id]/route.ts, …). Tests pass their database; the web server
 * passes nothing.
 */
export function statusRoutes(deps: CompatDeps = {}): FastRoute[] {
  return [
    { method: "GET", path: "/task_status/:task_id", where: { task_id: ID }, handler: (req, p) => getTaskStatus(req, { taskId: p.task_id }, deps) },
    { method: "GET", path: "/api/v2/training/:task_id", where: { task_id: ID }, handler: (req, p) => getTraining(req, { taskId: p.task_id }, deps) },
    { method: "GET", path: "/api/v1/experiments/:id", where: { id: ID }, handler: (req, p) => getV1Experiment(req, { id: p.id }, deps) },
    {
      method: "GET",
      path: "/training/task_status/:project_name/:task_id",
      where: { task_id: ID },
      handler: (req, p) => taskStatus(req, { projectName: p.project_name, taskId: p.task_id }, deps),
    },
    { method: "GET", path: "/train/:job_id", where: { job_id: ID }, handler: (req, p) => getJob(req, { jobId: p.job_id }, deps) },
  ];
}
