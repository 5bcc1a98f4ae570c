import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type PgBoss from "pg-boss";
import { isDatabaseUnavailable, type Db } from "@/db/client";
import { experiments, projects, type ExperimentStatus } from "@/db/schema";
import { enqueue } from "@/server/jobs/enqueue";
import { appendLog, publishStatus, unleased } from "./lease";

const DEFAULT_STALE_SECONDS = 30;

export interface ReaperOptions {
  /** A run whose heartbeat is older than this is taken as dead (its worker or process is gone). */
  staleSeconds?: number;
  /** Crash recoveries before the run is failed. */
  retryLimit?: number;
}

export interface ReapResult {
  requeued: number[];
  failed: number[];
  /** Runs that were pausing or stopping when they died: they end paused / stopped. */
  settled: number[];
}

/**
 * Recovers runs whose process died without a word (SIGKILL, a crashed or unplugged worker): pg-boss
 * 10 has no heartbeat and would let such a job wait out its expiry. A running experiment is re-queued
 * (the new attempt resumes from weights/last) until `retryLimit`, then failed; a pausing or stopping
 * one simply ends paused or stopped. Each transition re-checks staleness, so a late heartbeat wins.
 */
async function reapStaleRuns(db: Db, boss: PgBoss, options: ReaperOptions = {}): Promise<ReapResult> {
  const staleSeconds = options.staleSeconds ?? DEFAULT_STALE_SECONDS;
  const retryLimit = options.retryLimit ?? 3;
  const staleBefore = sql`now() - make_interval(secs => ${staleSeconds})`;
  const result: ReapResult = { requeued: [], failed: [], settled: [] };
  const candidates = await db
    .select({ id: experiments.id, status: experiments.status, retries: experiments.retries, teamId: projects.teamId })
    .from(experiments)
    .innerJoin(projects, eq(projects.id, experiments.projectId))
    .where(and(inArray(experiments.status, ["running", "pausing", "stopping"]), lt(experiments.heartbeatAt, staleBefore)));

  for (const run of candidates) {
    const stillStale = and(eq(experiments.id, run.id), eq(experiments.status, run.status), lt(experiments.heartbeatAt, staleBefore));
    const writer = unleased(run.id, run.teamId);
    if (run.status !== "running") {
      const status: ExperimentStatus = run.status === "pausing" ? "paused" : "stopped";
      const [row] = await db
        .update(experiments)
        .set({ status, leaseToken: null, heartbeatAt: null, finishedAt: status === "stopped" ? sql`now()` : null, updatedAt: sql`now()` })
        .where(stillStale)
        .returning({ id: experiments.id });
      if (!row) continue;
      await appendLog(db, writer, { level: "warn", stage: "stopped", message: `The run stopped answering while ${run.status}; it is now ${status} (weights/last holds the last finished epoch)` });
      await publishStatus(db, run.teamId, run.id);
      result.settled.push(run.id);
      continue;
    }
    if (run.retries >= retryLimit) {
      const error = `The run stopped answering ${run.retries + 1} times (no heartbeat for ${staleSeconds} s); gave up after ${retryLimit} retries`;
      const [row] = await db
        .update(experiments)
        .set({ status: "failed", error, leaseToken: null, heartbeatAt: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
        .where(stillStale)
        .returning({ id: experiments.id });
      if (!row) continue;
      await appendLog(db, writer, { level: "error", stage: "failed", message: error });
      await publishStatus(db, run.teamId, run.id);
      result.failed.push(run.id);
      continue;
    }
    await db.transaction(async (tx) => {
      const [row] = await tx
        .update(experiments)
        .set({ status: "queued", leaseToken: null, heartbeatAt: null, retries: sql`${experiments.retries} + 1`, queuedAt: sql`now()`, updatedAt: sql`now()` })
        .where(stillStale)
        .returning({ attempt: experiments.attempt, retries: experiments.retries });
      if (!row) return;
      await enqueue("experiments.train", { experimentId: run.id, attempt: row.attempt }, { tx, boss });
      await publishStatus(tx, run.teamId, run.id);
      result.requeued.push(run.id);
    });
    if (result.requeued.includes(run.id)) {
      await appendLog(db, writer, { level: "warn", stage: "start", message: `The run stopped answering (no heartbeat for ${staleSeconds} s); re-queued to resume from its last checkpoint (retry ${run.retries + 1} of ${retryLimit})` });
    }
  }
  return result;
}

export interface Reaper {
  stop(): void;
}

/**
 * At least this long after an outage before any run counts as dead: on a loaded host every pool reconnects at
 * once, each handshake (SCRAM) costing CPU on both ends, and 15 s proved too short on a busy 2-core machine.
 */
const MIN_OUTAGE_GRACE_SECONDS = 30;

/**
 * Runs `reapStaleRuns` every `intervalMs` in the training worker. While the database was unreachable
 * nobody could beat a heartbeat: once it answers again, runs get `staleSeconds` (at least
 * MIN_OUTAGE_GRACE_SECONDS) to beat before any counts as dead, so a database restart re-queues nothing.
 */
export function startReaper(db: Db, boss: PgBoss, options: ReaperOptions & { intervalMs?: number } = {}): Reaper {
  const graceMs = Math.max(options.staleSeconds ?? DEFAULT_STALE_SECONDS, MIN_OUTAGE_GRACE_SECONDS) * 1000;
  // When the database last came back; long ago at start, so runs a crash left behind are reaped at once.
  let reachableSince: number | null = 0;
  const pass = async () => {
    try {
      if (reachableSince === null) {
        await db.execute(sql`SELECT 1`);
        reachableSince = Date.now();
      }
      if (Date.now() - reachableSince < graceMs) return;
      const result = await reapStaleRuns(db, boss, options);
      for (const id of result.requeued) console.warn(`[reaper] experiment ${id}: heartbeat lost, re-queued`);
      for (const id of result.failed) console.warn(`[reaper] experiment ${id}: heartbeat lost too often, failed`);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) console.error(`[reaper] ${(error as Error).message}`);
      else if (reachableSince !== null) console.error("[reaper] the database is unreachable: waiting for it");
      if (isDatabaseUnavailable(error)) reachableSince = null;
    }
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void pass().finally(() => (running = false));
  }, options.intervalMs ?? 10_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
