import { z } from "zod";
import { recordId } from "@/server/http/input";
import { defineJob, NO_RETRY } from "@/server/jobs/registry";

export const exportWeightsJob = defineJob({
  name: "weights.export",
  version: 1,
  payload: z.object({ weightsId: recordId }),
  retry: NO_RETRY,
  expireInSeconds: 6 * 3600,
  // The engine loads in workers only, not in the web server that queues the job.
  loadHandler: async () => {
    const { runExport } = await import("./export-work");
    return (payload, { db }) => runExport(db, payload.weightsId);
  },
});
