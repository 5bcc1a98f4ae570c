import { and, asc, eq, gt, max, sql } from "drizzle-orm";
import { databaseUrl } from "@/db/client";
import { experimentLogs, experimentMetrics, finishedExperimentStatuses, isExperimentIn } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { topicWakeups, type TopicWatch } from "@/server/events/topic-wakeups";
import { experimentTopicOf } from "./events";
import { getExperiment, getExperimentLogs, type ExperimentView, type LogRow } from "./queries";

const PAGE = 500;

/** An epoch's metrics (step 0), with the time it was written at full precision (text) to resume after. */
export interface EpochPoint {
  epoch: number;
  values: Record<string, number>;
  writtenAt: string;
}

/**
 * What following an experiment yields: each log line once, by sequence number; each epoch's
 * metrics as written; the experiment whenever its status changes (and once at the start); and
 * `caught-up` at the end of every read, before waiting for the next event.
 */
export type FollowedItem =
  | { type: "log"; log: LogRow; experiment: ExperimentView }
  | { type: "metrics"; point: EpochPoint }
  | { type: "status"; experiment: ExperimentView }
  | { type: "caught-up"; experiment: ExperimentView };

export interface FollowOptions {
  /** Lines after this sequence number come first; without it, only those written from now on. */
  since?: number;
  /** Epoch metrics too: those written after the `since` line (every one for 0), else from now on. */
  metrics?: boolean;
  /**
   * Opens the wake-ups of the experiment's topic (before the first read, so nothing falls between
   * reading and waiting). Without it the follower reads once and ends: a replay.
   */
  watch?: (topic: string) => Promise<TopicWatch>;
  /** Read again after this long without an event: events are hints, and can be lost. */
  idleCheckMs?: number;
  /** End after the last line of a run that has finished. */
  untilFinished?: boolean;
  /** At most this many lines in all (a replay's cap). */
  maxLines?: number;
  signal?: AbortSignal;
}

/** Wake-ups from this process's own LISTEN connection, shared by every follower in it (the web server's SSE streams). */
export function processWakeups(topic: string): Promise<TopicWatch> {
  return topicWakeups(databaseUrl()).watch(topic);
}

/**
 * Follows an experiment of the caller's team from the tables, the truth, woken by its live events:
 * a replay from a sequence number that turns into the live stream with no gap and no line twice.
 * Throws NotFound when the experiment is not the team's, or is deleted while followed.
 */
export async function* followExperiment(ctx: Ctx, id: number, options: FollowOptions = {}): AsyncGenerator<FollowedItem> {
  const watch = options.watch ? await options.watch(experimentTopicOf(id)) : null;
  const stop = () => watch?.close();
  options.signal?.addEventListener("abort", stop);
  try {
    const first = await getExperiment(ctx, id);
    let after = options.since ?? first.logSeq;
    let metricsAfter = options.metrics ? await metricsStart(ctx, id, options.since) : null;
    let lastStatus: string | null = null;
    let lines = 0;
    while (!options.signal?.aborted) {
      // Status first: when it says finished, every line was written before the logs are read below.
      const experiment = await getExperiment(ctx, id);
      for (;;) {
        const limit = options.maxLines === undefined ? PAGE : Math.min(PAGE, options.maxLines - lines);
        const logs = limit > 0 ? await getExperimentLogs(ctx, { id, since: after, limit }) : [];
        for (const log of logs) {
          yield { type: "log", log, experiment };
          after = log.seq;
        }
        lines += logs.length;
        if (logs.length < PAGE) break;
      }
      if (metricsAfter !== null) {
        for (const point of await epochPointsAfter(ctx, id, metricsAfter)) {
          yield { type: "metrics", point };
          metricsAfter = point.writtenAt;
        }
      }
      // Read again after the lines, so the status shown is at least as new as the last of them.
      const current = await getExperiment(ctx, id);
      if (current.status !== lastStatus) {
        yield { type: "status", experiment: current };
        lastStatus = current.status;
      }
      yield { type: "caught-up", experiment: current };
      if (!watch || options.signal?.aborted || (options.untilFinished && isExperimentIn(experiment.status, finishedExperimentStatuses))) return;
      await watch.wait(options.idleCheckMs ?? 5_000);
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    watch?.close();
  }
}

/** Metrics written after the `since` line was (all of them for 0), else after the newest one written so far. */
async function metricsStart(ctx: Ctx, id: number, since: number | undefined): Promise<string> {
  if (since === 0) return "-infinity";
  if (since !== undefined) {
    const [line] = await ctx.db
      .select({ at: sql<string>`${experimentLogs.at}::text` })
      .from(experimentLogs)
      .where(and(eq(experimentLogs.experimentId, id), eq(experimentLogs.seq, since)));
    return line?.at ?? "-infinity";
  }
  const [newest] = await ctx.db
    .select({ at: sql<string | null>`${max(experimentMetrics.createdAt)}::text` })
    .from(experimentMetrics)
    .where(and(eq(experimentMetrics.experimentId, id), eq(experimentMetrics.step, 0)));
  return newest?.at ?? "-infinity";
}

/** The experiment is the caller's team's: checked by getExperiment on every read before this one. */
async function epochPointsAfter(ctx: Ctx, id: number, after: string): Promise<EpochPoint[]> {
  return ctx.db
    .select({ epoch: experimentMetrics.epoch, values: experimentMetrics.values, writtenAt: sql<string>`${experimentMetrics.createdAt}::text` })
    .from(experimentMetrics)
    .where(and(eq(experimentMetrics.experimentId, id), eq(experimentMetrics.step, 0), gt(experimentMetrics.createdAt, sql`${after}::timestamptz`)))
    .orderBy(asc(experimentMetrics.createdAt), asc(experimentMetrics.epoch));
}
