import { datasetImportJob } from "@/server/datasets/import";
import { createTrainExperimentJob } from "@/server/experiments/job";
import { systemPingJob } from "@/server/system/ping-job";
import { exportWeightsJob } from "@/server/weights/export-job";
import { validateWeightsJob } from "@/server/weights/validate-job";
import { createJobRegistry } from "./registry";

/** Every background job the studio runs. Adding one: `defineJob` in its domain folder, one line here. */
export const jobRegistry = createJobRegistry([systemPingJob, datasetImportJob, createTrainExperimentJob(), validateWeightsJob, exportWeightsJob] as const);

export type StudioJobs = typeof jobRegistry;
