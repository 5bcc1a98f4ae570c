import { z } from "zod";
import { defineJob, NO_RETRY } from "@/server/jobs/registry";

/**
 * Every minute: rolls the hosts' 1 s samples up into minute rows, deletes 1 s samples older than an
 * hour and rollups older than 30 days. One job for the whole fleet, so a host that is gone is pruned too.
 */
export const rollupSamplesJob = defineJob({
  name: "system.rollup-samples",
  version: 1,
  payload: z.object({}).passthrough(),
  // The next minute's run does the same work again.
  retry: NO_RETRY,
  expireInSeconds: 300,
  schedule: "* * * * *",
  loadHandler: async () => {
    const { rollupAndPrune } = await import("./samples");
    return (_payload, { db }) => rollupAndPrune(db);
  },
});
