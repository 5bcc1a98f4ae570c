import { z } from "zod";
import { publish } from "@/server/events/bus";
import { SYSTEM_TOPIC, teamTopic } from "@/server/events/types";
import { defineJob } from "@/server/jobs/registry";

/**
 * Proves the whole path works: queued by anyone, worked by a worker process, answered with a
 * `system.pong` event (to the asking team, or to everyone on `system`) and kept as the job's output.
 */
export const systemPingJob = defineJob({
  name: "system.ping",
  payload: z.object({ nonce: z.string().min(1).max(200), teamId: z.number().int().positive().optional() }),
  retry: { limit: 0, delaySeconds: 0, backoff: false },
  expireInSeconds: 60,
  async handler({ nonce, teamId }, { db, jobId }) {
    const pongAt = new Date().toISOString();
    await publish(db, teamId === undefined ? { type: "system.pong", teamId: null, topic: SYSTEM_TOPIC, nonce, jobId } : { type: "system.pong", teamId, topic: teamTopic(teamId), nonce, jobId });
    return { nonce, pongAt };
  },
});
