/** The experiments domain's service functions, for every face (tRPC, each old dialect's REST routes). */
export {
  cloneExperiment,
  createExperiment,
  deleteExperiment,
  pauseExperiment,
  renameExperiment,
  resumeExperiment,
  startExperiment,
  stopExperiment,
} from "./lifecycle";
export { compareExperiments, getExperiment, getExperimentLogs, getExperimentMetrics, listExperiments, type ExperimentView, type LogRow, type MetricPoint } from "./queries";
export { defaultHyperparameters, type CreateExperimentInput, type Hyperparameters } from "./schemas";
export { activeExperimentStatuses, finishedExperimentStatuses, isExperimentIn, resumableExperimentStatuses, type ExperimentStatus } from "@/db/schema/experiments";
