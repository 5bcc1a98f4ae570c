import { systemContext, type Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import type { StudioEvent } from "@/server/events/types";
import type { TopicKind } from "@/server/realtime/topics";
import { getExperiment, getExperimentLogs } from "./queries";

/** At most this many log lines are resent on a reconnect; older ones are read through the logs query. */
const REPLAY_LIMIT = 2000;

/** Another team's (or a deleted) experiment reads as missing: nothing to follow. */
async function unlessMissing<T>(read: Promise<T>, missing: T): Promise<T> {
  return read.catch((err: unknown) => {
    if (err instanceof NotFound) return missing;
    throw err;
  });
}

/**
 * `experiment:<id>` topics: members of the experiment's team may follow it; a reconnecting client
 * gets the log lines after its last sequence number from experiment_logs, then the current status.
 */
export const experimentTopic: TopicKind = {
  authorize: (db, caller, id) => unlessMissing(getExperiment({ db, caller }, id).then(() => true), false),
  async replay(db, teamId, id, since) {
    const ctx: Ctx = systemContext(db, teamId, { purpose: "topic replay", onBehalfOf: null });
    const rows = await unlessMissing(getExperimentLogs(ctx, { id, since, limit: REPLAY_LIMIT }), []);
    const topic = `experiment:${id}`;
    const events: StudioEvent[] = rows.map((row) => ({
      type: "experiment.log",
      teamId,
      topic,
      seq: row.seq,
      experimentId: id,
      level: row.level,
      stage: row.stage,
      message: row.message.slice(0, 2000),
      epoch: row.epoch,
      metrics: row.metrics,
      at: row.at.toISOString(),
    }));
    // Read after the lines, so the status is at least as new as the last of them.
    const current = await unlessMissing(getExperiment(ctx, id), null);
    if (current) {
      events.push({
        type: "experiment.status",
        teamId,
        topic,
        experimentId: id,
        status: current.status,
        progress: current.progress,
        currentEpoch: current.currentEpoch,
        totalEpochs: current.totalEpochs,
        error: current.error ? current.error.slice(0, 2000) : null,
      });
    }
    return events;
  },
};
