import path from "node:path";
import { env } from "@/server/env";
import { zooModels } from "@/server/ml/zoo/index";
import {
  cloneExperiment,
  compareExperiments,
  createExperiment,
  defaultHyperparameters,
  deleteExperiment,
  getExperiment,
  getExperimentLogs,
  getExperimentMetrics,
  listExperiments,
  pauseExperiment,
  renameExperiment,
  resumeExperiment,
  startExperiment,
  stopExperiment,
} from "@/server/experiments/service";
import { listPlots } from "@/server/experiments/plots";
import {
  cloneExperimentInput,
  compareInput,
  createExperimentInput,
  experimentByIdInput,
  listExperimentsInput,
  logsInput,
  renameExperimentInput,
  resumeExperimentInput,
} from "@/server/experiments/schemas";
import { authed, role, router } from "../init";

/** Clients see the run folder relative to the storage root (`runs/<project>/<name>`), never the server's path. */
function forClient<T extends { runDir: string | null }>(view: T): T {
  return { ...view, runDir: view.runDir === null ? null : path.relative(env().dataDir, view.runDir) };
}

export const experimentsRouter = router({
  list: authed.input(listExperimentsInput).query(async ({ ctx, input }) => (await listExperiments(ctx.svc, input)).map(forClient)),
  byId: authed.input(experimentByIdInput).query(async ({ ctx, input }) => forClient(await getExperiment(ctx.svc, input.id))),
  metrics: authed.input(experimentByIdInput).query(({ ctx, input }) => getExperimentMetrics(ctx.svc, input.id)),
  logs: authed.input(logsInput).query(({ ctx, input }) => getExperimentLogs(ctx.svc, input)),
  /** The PNGs in the run's plots/ folder, with their mtimes (served by /api/experiments/<id>/plots/<name>). */
  plots: authed.input(experimentByIdInput).query(({ ctx, input }) => listPlots(ctx.svc, input.id)),
  compare: authed.input(compareInput).query(async ({ ctx, input }) => (await compareExperiments(ctx.svc, input.ids)).map((run) => ({ ...run, experiment: forClient(run.experiment) }))),
  /** What the new-experiment form offers: the engine's defaults and the zoo. */
  formOptions: authed.query(() => ({
    defaults: defaultHyperparameters(),
    zoo: zooModels.map((m) => ({ name: m.name, task: m.task, description: m.description })),
  })),
  create: role("member").input(createExperimentInput).mutation(async ({ ctx, input }) => forClient(await createExperiment(ctx.svc, input))),
  start: role("member").input(experimentByIdInput).mutation(async ({ ctx, input }) => forClient(await startExperiment(ctx.svc, input.id))),
  stop: role("member").input(experimentByIdInput).mutation(async ({ ctx, input }) => forClient(await stopExperiment(ctx.svc, input.id))),
  pause: role("member").input(experimentByIdInput).mutation(async ({ ctx, input }) => forClient(await pauseExperiment(ctx.svc, input.id))),
  resume: role("member").input(resumeExperimentInput).mutation(async ({ ctx, input }) => forClient(await resumeExperiment(ctx.svc, input))),
  clone: role("member").input(cloneExperimentInput).mutation(async ({ ctx, input }) => forClient(await cloneExperiment(ctx.svc, input))),
  rename: role("member").input(renameExperimentInput).mutation(async ({ ctx, input }) => forClient(await renameExperiment(ctx.svc, input))),
  delete: role("member").input(experimentByIdInput).mutation(({ ctx, input }) => deleteExperiment(ctx.svc, input.id)),
});
