import { readJson, type HandlerDeps } from "@/server/http/handler";
import type { Ctx } from "@/server/context";
import { exportWeights, waitForExport } from "@/server/weights/export";
import { validateWeights, waitForValidation } from "@/server/weights/validate";
import { parseTrainingModuleTaskIdParam } from "./mapper";
import { moduleRoute, projectRoute, projectTask } from "./route";
import { parseTrainingModuleExport, parseTrainingModuleValidate, trainingModuleExport, trainingModuleExportFormats, trainingModuleValidation } from "./weights-mapper";

/** Seed 000 §3 and §6.2. The document answers with the finished result, so these wait for their job. */

export interface WaitingDeps extends HandlerDeps {
  /** How long to wait for the job (default 10 minutes). */
  timeoutMs?: number;
}

const DEFAULT_WAIT_MS = 10 * 60_000;

const failed = (error: string) => Response.json({ success: false, error }, { status: 500 });

/** A job on the task's best checkpoint, queued and waited for: `{success, data}` with its result, or its failure in the document's words. */
function waitedTaskJob<T extends { status: string; error: string | null }>(run: (ctx: Ctx, experimentId: number, body: unknown, route: WaitingDeps) => Promise<T>, failure: string, data: (row: T) => unknown) {
  return projectRoute<"task_id", WaitingDeps>(async (ctx, project, req, params, route) => {
    const task = await projectTask(ctx, project, parseTrainingModuleTaskIdParam(params.task_id));
    const row = await run(ctx, task.id, await readJson(req), route);
    if (row.status === "failed") return failed(`${failure}: ${row.error ?? "unknown error"}`);
    return Response.json({ success: true, data: data(row) });
  });
}

/** `POST /training/validate_model/<project>/<task_id>`: the task's best checkpoint on its dataset's val split. */
export const validateModel = waitedTaskJob(
  async (ctx: Ctx, experimentId: number, body: unknown, route: WaitingDeps) => {
    const queued = await validateWeights(ctx, { ...parseTrainingModuleValidate(body), experimentId }, { boss: route.boss });
    return waitForValidation(ctx, queued.id, route.timeoutMs ?? DEFAULT_WAIT_MS);
  },
  "验证失败",
  trainingModuleValidation,
);

/** `POST /training/export_model/<project>/<task_id>`: the task's best checkpoint, saved to the library and exported. */
export const exportModel = waitedTaskJob(
  async (ctx: Ctx, experimentId: number, body: unknown, route: WaitingDeps) => {
    const child = await exportWeights(ctx, { ...parseTrainingModuleExport(body), experimentId }, { boss: route.boss });
    return waitForExport(ctx, child.id, route.timeoutMs ?? DEFAULT_WAIT_MS);
  },
  "导出失败",
  trainingModuleExport,
);

/** `GET /training/export_formats`. */
export const exportFormats = moduleRoute(async () => Response.json({ success: true, formats: trainingModuleExportFormats() }));
