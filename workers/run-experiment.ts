import type { RunProcessOptions } from "@/server/experiments/run-protocol";
import { runExperimentProcess } from "@/server/experiments/runner";

/**
 * One attempt of one experiment, started by the training worker (server/experiments/job.ts). The
 * worker starts it ahead of time: the imports above are most of a run's start, so it waits here for
 * its options over IPC (which also keeps the lease token out of the process list). Given them as a
 * JSON argument it runs at once.
 */
function optionsFromWorker(): Promise<RunProcessOptions> {
  return new Promise((resolve) => {
    // A worker that goes away before handing over a run leaves nothing to do.
    const idle = () => process.exit(0);
    process.once("disconnect", idle);
    process.once("message", (message) => {
      process.off("disconnect", idle);
      process.channel?.unref();
      resolve(message as RunProcessOptions);
    });
  });
}

const options = process.argv[2] ? (JSON.parse(process.argv[2]) as RunProcessOptions) : await optionsFromWorker();
const code = await runExperimentProcess(options);
process.exit(code);
