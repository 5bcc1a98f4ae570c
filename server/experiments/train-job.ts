import { z } from "zod";
import { defineJob, NO_RETRY } from "@/server/jobs/registry";
import type { TrainJobOptions } from "./job";

export const trainJobPayload = z.object({
  experimentId: z.number().int().positive(),
  /** The experiment's attempt number when queued: a job for an older attempt finds nothing to claim. */
  attempt: z.number().int().nonnegative(),
});

/**
 * One training attempt, one job per (re)start; workers run one per slot. pg-boss retries are off:
 * the lease and the reaper do recovery. Tests and benchmarks pass their own timings.
 */
export function createTrainExperimentJob(options: TrainJobOptions = {}) {
  return defineJob({
    name: "experiments.train",
    version: 1,
    payload: trainJobPayload,
    retry: NO_RETRY,
    // pg-boss' expiry (default 15 minutes, at most 24 h) would only mark the job failed: the run
    // goes on, watched by its heartbeat, so the longest allowed keeps its bookkeeping quiet.
    expireInSeconds: 23 * 3600,
    perSlot: true,
    loadHandler: async () => {
      const [{ runTrainJob }, { validateBestEpoch }] = await Promise.all([import("./job"), import("@/server/weights/validate-best-epoch")]);
      return async (payload, { db, boss }) => {
        const outcome = await runTrainJob(db, payload, options);
        // An ended run's best epoch gets a validation with per-image results (paused or re-queued runs do not).
        if (outcome.outcome === "finished" || outcome.outcome === "killed") await validateBestEpoch(db, payload.experimentId, { boss });
        return outcome;
      };
    },
  });
}

export const trainExperimentJob = createTrainExperimentJob();
