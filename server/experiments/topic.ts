import { and, asc, eq, gt } from "drizzle-orm";
import type { Db } from "@/db/client";
import { experimentLogs, experiments, projects } from "@/db/schema";
import type { StudioEvent } from "@/server/events/types";
import type { TopicKind } from "@/server/realtime/topics";

/** At most this many log lines are resent on a reconnect; older ones are read through the logs query. */
const REPLAY_LIMIT = 2000;

async function teamOwns(db: Db, teamId: number, experimentId: number): Promise<boolean> {
  const [row] = await db
    .select({ id: experiments.id })
    .from(experiments)
    .innerJoin(projects, eq(projects.id, experiments.projectId))
    .where(and(eq(experiments.id, experimentId), eq(projects.teamId, teamId)));
  return Boolean(row);
}

/**
 * `experiment:<id>` topics: members of the experiment's team may follow it; a reconnecting client
 * gets the log lines after its last sequence number from experiment_logs, then the current status.
 */
export const experimentTopic: TopicKind = {
  authorize: (db, caller, id) => teamOwns(db, caller.teamId, id),
  async replay(db, teamId, id, since) {
    if (!(await teamOwns(db, teamId, id))) return [];
    const rows = await db
      .select()
      .from(experimentLogs)
      .where(and(eq(experimentLogs.experimentId, id), gt(experimentLogs.seq, since)))
      .orderBy(asc(experimentLogs.seq))
      .limit(REPLAY_LIMIT);
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
    const [current] = await db.select().from(experiments).where(eq(experiments.id, id));
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
