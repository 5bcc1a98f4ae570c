import { datasetImportJob } from "@/server/datasets/import-job";
import { trainExperimentJob } from "@/server/experiments/train-job";
import { systemPingJob } from "@/server/system/ping-job";
import { measureBatchJob } from "@/server/system/measure-batch-job";
import { rollupSamplesJob } from "@/server/system/rollup-job";
import { exportWeightsJob } from "@/server/weights/export-job";
import { validateWeightsJob } from "@/server/weights/validate-job";
import { createJobRegistry } from "./registry";

/** Every background job the studio runs. Adding one: a `defineJob` file in its domain folder, one entry here. */
export const jobRegistry = createJobRegistry([systemPingJob, datasetImportJob, trainExperimentJob, validateWeightsJob, exportWeightsJob, rollupSamplesJob, measureBatchJob] as const);
