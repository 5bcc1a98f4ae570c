import { z } from "zod";
import { defineJob, NO_RETRY } from "@/server/jobs/registry";

export const pingPayload = z.object({ nonce: z.string().min(1).max(200), teamId: z.number().int().positive().optional() });

/**
 * Proves the whole path works: queued by anyone, worked by a worker process, answered with a
 * `system.pong` event (to the asking team, or to everyone on `system`) and kept as the job's output.
 */
export const systemPingJob = defineJob({
  name: "system.ping",
  version: 1,
  payload: pingPayload,
  retry: NO_RETRY,
  expireInSeconds: 60,
  loadHandler: async () => (await import("./ping")).answerPing,
});
