import { z } from "zod";
import { recordId } from "@/server/http/input";
import { defineJob } from "@/server/jobs/registry";
import { EXPORT_JOB } from "./export";

export const exportWeightsJob = defineJob({
  name: EXPORT_JOB,
  payload: z.object({ weightsId: recordId }),
  retry: { limit: 0, delaySeconds: 0, backoff: false },
  expireInSeconds: 6 * 3600,
  // The engine loads in workers only, not in the web server that queues the job.
  handler: async (payload, { db }) => (await import("./export-work")).runExport(db, payload.weightsId),
});
