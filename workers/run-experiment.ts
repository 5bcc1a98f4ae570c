import type { RunProcessOptions } from "@/server/experiments/job-payload";
import { runExperimentProcess } from "@/server/experiments/runner";

/** One attempt of one experiment, started by the training worker (server/experiments/job.ts) with its options as JSON. */
const options = JSON.parse(process.argv[2] ?? "{}") as RunProcessOptions;
const code = await runExperimentProcess(options);
process.exit(code);
