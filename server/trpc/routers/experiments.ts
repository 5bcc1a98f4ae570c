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

export const experimentsRouter = router({
  list: authed.input(listExperimentsInput).query(({ ctx, input }) => listExperiments(ctx.svc, input)),
  byId: authed.input(experimentByIdInput).query(({ ctx, input }) => getExperiment(ctx.svc, input.id)),
  metrics: authed.input(experimentByIdInput).query(({ ctx, input }) => getExperimentMetrics(ctx.svc, input.id)),
  logs: authed.input(logsInput).query(({ ctx, input }) => getExperimentLogs(ctx.svc, input)),
  /** The PNGs in the run's plots/ folder, with their mtimes (served by /api/experiments/<id>/plots/<name>). */
  plots: authed.input(experimentByIdInput).query(({ ctx, input }) => listPlots(ctx.svc, input.id)),
  compare: authed.input(compareInput).query(({ ctx, input }) => compareExperiments(ctx.svc, input.ids)),
  /** What the new-experiment form offers: the engine's defaults and the zoo. */
  formOptions: authed.query(() => ({
    defaults: defaultHyperparameters(),
    zoo: zooModels.map((m) => ({ name: m.name, task: m.task, description: m.description })),
  })),
  create: role("member").input(createExperimentInput).mutation(({ ctx, input }) => createExperiment(ctx.svc, input)),
  start: role("member").input(experimentByIdInput).mutation(({ ctx, input }) => startExperiment(ctx.svc, input.id)),
  stop: role("member").input(experimentByIdInput).mutation(({ ctx, input }) => stopExperiment(ctx.svc, input.id)),
  pause: role("member").input(experimentByIdInput).mutation(({ ctx, input }) => pauseExperiment(ctx.svc, input.id)),
  resume: role("member").input(resumeExperimentInput).mutation(({ ctx, input }) => resumeExperiment(ctx.svc, input)),
  clone: role("member").input(cloneExperimentInput).mutation(({ ctx, input }) => cloneExperiment(ctx.svc, input)),
  rename: role("member").input(renameExperimentInput).mutation(({ ctx, input }) => renameExperiment(ctx.svc, input)),
  delete: role("member").input(experimentByIdInput).mutation(({ ctx, input }) => deleteExperiment(ctx.svc, input.id)),
});
