import { z } from "zod";
import { recordId } from "@/server/http/input";
import { defineJob, NO_RETRY } from "@/server/jobs/registry";

export const validateWeightsJob = defineJob({
  name: "weights.validate",
  version: 1,
  payload: z.object({ validationId: recordId }),
  // The row keeps the failure; a retry would fail the same way.
  retry: NO_RETRY,
  expireInSeconds: 6 * 3600,
  // The engine loads in workers only, not in the web server that queues the job.
  loadHandler: async () => {
    const { runValidation } = await import("./validate-work");
    return (payload, { db }) => runValidation(db, payload.validationId);
  },
});
