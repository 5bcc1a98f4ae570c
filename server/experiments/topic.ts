import { systemContext } from "@/server/context";
import { NotFound } from "@/server/errors";
import type { StudioEvent } from "@/server/events/types";
import type { TopicKind } from "@/server/realtime/topics";
import { logEvent, statusEvent } from "./events";
import { followExperiment } from "./follow";
import { getExperiment } from "./queries";

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
 * gets what the experiment follower replays (the log lines after its last sequence number, then the
 * current status) and the live events of the topic's room after that.
 */
export const experimentTopic: TopicKind = {
  authorize: (db, caller, id) => unlessMissing(getExperiment({ db, caller }, id).then(() => true), false),
  async replay(db, teamId, id, since) {
    // The subscriber was authorised for the topic; the replay reads for its team.
    const ctx = systemContext(db, teamId, { purpose: "topic replay", onBehalfOf: null });
    const replayed = async () => {
      const events: StudioEvent[] = [];
      for await (const item of followExperiment(ctx, id, { since, maxLines: REPLAY_LIMIT })) {
        if (item.type === "log") events.push(logEvent(teamId, item.log));
        else if (item.type === "status") events.push(statusEvent(teamId, item.experiment));
      }
      return events;
    };
    return unlessMissing(replayed(), []);
  },
};
