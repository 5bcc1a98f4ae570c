import { readJson, withCaller, type HandlerDeps, type RouteContext, type RouteDeps } from "@/server/http/handler";
import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import { getExperiment } from "@/server/experiments/queries";
import { getProjectByName } from "@/server/projects/service";
import { exportWeights, waitForExport } from "@/server/weights/export";
import { validateWeights, waitForValidation } from "@/server/weights/validate";
import { parseTrainingModuleTaskIdParam, trainingModuleError } from "./mapper";
import { parseTrainingModuleExport, parseTrainingModuleValidate, trainingModuleExport, trainingModuleExportFormats, trainingModuleValidation } from "./weights-mapper";

/** Seed 000 §3 and §6.2. The document answers with the finished result, so these wait for their job. */

export interface WaitingDeps extends HandlerDeps {
  /** How long to wait for the job (default 10 minutes). */
  timeoutMs?: number;
}

const DEFAULT_WAIT_MS = 10 * 60_000;

async function projectTask(ctx: Ctx, projectName: string, taskId: string) {
  const project = await getProjectByName(ctx, projectName);
  const id = parseTrainingModuleTaskIdParam(taskId);
  const experiment = await getExperiment(ctx, id).catch(() => null);
  if (!experiment || experiment.projectId !== project.id) throw new NotFound(`Task ${id} not found in project "${projectName}"`);
  return experiment;
}

const failed = (error: string) => Response.json({ success: false, error }, { status: 500 });

/** `POST /training/validate_model/<project>/<task_id>`: the task's best checkpoint on its dataset's val split. */
export async function validateModel(req: Request, route: RouteContext<"project_name" | "task_id"> & WaitingDeps): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    trainingModuleError,
    async (ctx) => {
      const task = await projectTask(ctx, params.project_name, params.task_id);
      const input = parseTrainingModuleValidate(await readJson(req));
      const queued = await validateWeights(ctx, { ...input, experimentId: task.id }, { boss: route.boss });
      const row = await waitForValidation(ctx, queued.id, route.timeoutMs ?? DEFAULT_WAIT_MS);
      if (row.status === "failed") return failed(`验证失败: ${row.error ?? "unknown error"}`);
      return Response.json({ success: true, data: trainingModuleValidation(row) });
    },
    { db: route.db },
  );
}

/** `POST /training/export_model/<project>/<task_id>`: the task's best checkpoint, saved to the library and exported. */
export async function exportModel(req: Request, route: RouteContext<"project_name" | "task_id"> & WaitingDeps): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    trainingModuleError,
    async (ctx) => {
      const task = await projectTask(ctx, params.project_name, params.task_id);
      const input = parseTrainingModuleExport(await readJson(req));
      const child = await exportWeights(ctx, { ...input, experimentId: task.id }, { boss: route.boss });
      const entry = await waitForExport(ctx, child.id, route.timeoutMs ?? DEFAULT_WAIT_MS);
      if (entry.status === "failed") return failed(`导出失败: ${entry.error ?? "unknown error"}`);
      return Response.json({ success: true, data: trainingModuleExport(entry) });
    },
    { db: route.db },
  );
}

/** `GET /training/export_formats`. */
export function exportFormats(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, trainingModuleError, async () => Response.json({ success: true, formats: trainingModuleExportFormats() }), { db: route.db });
}
