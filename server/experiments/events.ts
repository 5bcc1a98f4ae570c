import type { StudioEvent } from "@/server/events/types";
import type { ExperimentRow, LogRow } from "./queries";

/** Events carry text up to this long; the row keeps all of it. */
const EVENT_TEXT_CHARS = 2000;

export function experimentTopicOf(experimentId: number) {
  return `experiment:${experimentId}` as const;
}

type StatusEvent = Extract<StudioEvent, { type: "experiment.status" }>;
type LogEvent = Extract<StudioEvent, { type: "experiment.log" }>;

/** The `experiment.status` event of an experiment row, as the run publishes it and a replay rebuilds it. */
export function statusEvent(teamId: number, row: Pick<ExperimentRow, "id" | "status" | "progress" | "currentEpoch" | "totalEpochs" | "error">): StatusEvent {
  return {
    type: "experiment.status",
    teamId,
    topic: experimentTopicOf(row.id),
    experimentId: row.id,
    status: row.status,
    progress: row.progress,
    currentEpoch: row.currentEpoch,
    totalEpochs: row.totalEpochs,
    error: row.error ? row.error.slice(0, EVENT_TEXT_CHARS) : null,
  };
}

/** The `experiment.log` event of a log row; `seq` is the line's sequence number, which replays resume from. */
export function logEvent(teamId: number, row: Pick<LogRow, "experimentId" | "seq" | "level" | "stage" | "message" | "epoch" | "metrics" | "at">): LogEvent {
  return {
    type: "experiment.log",
    teamId,
    topic: experimentTopicOf(row.experimentId),
    seq: row.seq,
    experimentId: row.experimentId,
    level: row.level,
    stage: row.stage,
    message: row.message.slice(0, EVENT_TEXT_CHARS),
    epoch: row.epoch,
    metrics: row.metrics,
    at: row.at.toISOString(),
  };
}
