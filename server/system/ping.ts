import type { z } from "zod";
import { publish } from "@/server/events/bus";
import { SYSTEM_TOPIC, teamTopic } from "@/server/events/types";
import type { JobContext } from "@/server/jobs/registry";
import type { pingPayload } from "./ping-job";

/** The `system.ping` job: a `system.pong` event to whoever asked, and the time it was answered. */
export async function answerPing({ nonce, teamId }: z.output<typeof pingPayload>, { db, jobId }: JobContext) {
  const pongAt = new Date().toISOString();
  await publish(db, teamId === undefined ? { type: "system.pong", teamId: null, topic: SYSTEM_TOPIC, nonce, jobId } : { type: "system.pong", teamId, topic: teamTopic(teamId), nonce, jobId });
  return { nonce, pongAt };
}
