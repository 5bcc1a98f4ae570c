import crypto from "node:crypto";
import path from "node:path";
import { and, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { experimentLogs, experimentMetrics, experiments, projects, type ExperimentStatus, type LogStage } from "@/db/schema";
import { env } from "@/server/env";
import { publish } from "@/server/events/bus";
import { experimentTopicOf, logEvent, statusEvent } from "./events";
import { parseLogLine } from "./log-parser";

/**
 * A run's writes are guarded by its lease: `attempt` and `lease_token` change whenever a worker
 * (re)claims the experiment, and every write says `WHERE id = $1 AND lease_token = $2`, so a stale
 * attempt (a process the reaper gave up on) can never overwrite the current one.
 */
export class LeaseLost extends Error {
  constructor(experimentId: number) {
    super(`experiment ${experimentId}: this run no longer holds the lease (another attempt took over, or the experiment was deleted)`);
    this.name = "LeaseLost";
  }
}

export interface Lease {
  experimentId: number;
  /** null for the studio's own notes (the reaper, the worker), which write whoever holds the lease. */
  token: string | null;
  attempt: number;
  teamId: number;
}

/** A writer for the studio's own log lines about a run, outside any attempt. */
export function unleased(experimentId: number, teamId: number): Lease {
  return { experimentId, teamId, token: null, attempt: 0 };
}

function leaseCondition(lease: Lease) {
  return lease.token === null ? eq(experiments.id, lease.experimentId) : and(eq(experiments.id, lease.experimentId), eq(experiments.leaseToken, lease.token));
}

/**
 * Takes the experiment for one attempt when it is queued with the expected attempt number. Returns
 * null when someone else took it, it was stopped meanwhile, or the job is a leftover.
 */
export async function claimLease(db: Db, experimentId: number, expectedAttempt: number): Promise<Lease | null> {
  const token = crypto.randomUUID();
  const rows = await db
    .update(experiments)
    .set({
      attempt: sql`${experiments.attempt} + 1`,
      leaseToken: token,
      status: "running",
      heartbeatAt: sql`now()`,
      startedAt: sql`coalesce(${experiments.startedAt}, now())`,
      finishedAt: null,
      error: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(experiments.id, experimentId), eq(experiments.status, "queued"), eq(experiments.attempt, expectedAttempt)))
    .returning({ attempt: experiments.attempt, projectId: experiments.projectId });
  if (rows.length === 0) return null;
  const [project] = await db.select({ teamId: projects.teamId }).from(projects).where(eq(projects.id, rows[0].projectId));
  const lease = { experimentId, token, attempt: rows[0].attempt, teamId: project.teamId };
  await publishStatus(db, lease.teamId, experimentId);
  return lease;
}

/** Refreshes the heartbeat and returns the status (pause and stop requests arrive through it). */
export async function heartbeat(db: Db, lease: Lease): Promise<ExperimentStatus> {
  const rows = await db
    .update(experiments)
    .set({ heartbeatAt: sql`now()` })
    .where(leaseCondition(lease))
    .returning({ status: experiments.status });
  if (rows.length === 0) throw new LeaseLost(lease.experimentId);
  return rows[0].status;
}

/** The status as the run process polls it between steps; throws LeaseLost once another attempt holds the run. */
export async function readControl(db: Db, lease: Lease): Promise<ExperimentStatus> {
  const [row] = await db.select({ status: experiments.status, token: experiments.leaseToken }).from(experiments).where(eq(experiments.id, lease.experimentId));
  if (!row || row.token !== lease.token) throw new LeaseLost(lease.experimentId);
  return row.status;
}

type RunUpdate = Partial<
  Pick<
    typeof experiments.$inferInsert,
    "backend" | "progress" | "currentEpoch" | "totalEpochs" | "latestMetrics" | "bestMetrics" | "bestEpoch" | "epochSeconds" | "runDir" | "status" | "error" | "finishedAt"
  >
>;

/** Updates run fields under the lease (in `tx` when given); throws LeaseLost when the token is stale. */
async function updateUnderLease(tx: DbOrTx, lease: Lease, values: RunUpdate & { logSeq?: ReturnType<typeof sql> }, onlyFrom?: ExperimentStatus[]) {
  const rows = await tx
    .update(experiments)
    .set({ ...values, ...(lease.token !== null && { heartbeatAt: sql`now()` }), updatedAt: sql`now()` })
    .where(onlyFrom ? and(leaseCondition(lease), inArray(experiments.status, onlyFrom)) : leaseCondition(lease))
    .returning();
  return rows[0];
}

export async function publishStatus(db: DbOrTx, teamId: number, experimentId: number): Promise<void> {
  const [row] = await db.select().from(experiments).where(eq(experiments.id, experimentId));
  if (!row) return;
  await publish(db, { ...statusEvent(teamId, row), teamWide: true });
}

/** Changes run fields and tells subscribers, in one transaction. */
export async function updateRun(db: Db, lease: Lease, values: RunUpdate): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await updateUnderLease(tx, lease, values);
    if (!row) throw new LeaseLost(lease.experimentId);
    await publishStatus(tx, lease.teamId, lease.experimentId);
  });
}

export interface LogLine {
  level: "info" | "warn" | "error";
  stage: LogStage;
  message: string;
  epoch?: number | null;
  /** Extra metrics; those parsed from the message are added. */
  metrics?: Record<string, number> | null;
}

/** Appends a log line with the next sequence number; the lease check and the number come from one UPDATE. */
/**
 * Log lines reach clients (studio, SSE, WebSocket): paths in them are relative to the storage root,
 * like the dialects' `runs/…` paths, never the server's own.
 */
function withoutStoragePaths(message: string): string {
  return message.split(env().dataDir + path.sep).join("");
}

export async function appendLog(db: Db, lease: Lease, rawLine: LogLine): Promise<number> {
  const line = { ...rawLine, message: withoutStoragePaths(rawLine.message) };
  const parsed = parseLogLine(line.message);
  const metrics = parsed || line.metrics ? { ...(parsed ?? {}), ...(line.metrics ?? {}) } : null;
  return db.transaction(async (tx) => {
    const row = await updateUnderLease(tx, lease, { logSeq: sql`${experiments.logSeq} + 1` });
    if (!row) throw new LeaseLost(lease.experimentId);
    const [inserted] = await tx
      .insert(experimentLogs)
      .values({ experimentId: lease.experimentId, seq: row.logSeq, level: line.level, stage: line.stage, message: line.message, epoch: line.epoch ?? null, metrics })
      .returning();
    await publish(tx, logEvent(lease.teamId, inserted));
    return row.logSeq;
  });
}

/**
 * The sequence number of a line this attempt may already have written after `afterSeq`: when the
 * connection drops during the commit, a retry must not write the line twice.
 */
export async function findLoggedLine(db: Db, lease: Lease, afterSeq: number, line: LogLine): Promise<number | null> {
  const [row] = await db
    .select({ seq: experimentLogs.seq })
    .from(experimentLogs)
    .where(and(eq(experimentLogs.experimentId, lease.experimentId), gt(experimentLogs.seq, afterSeq), eq(experimentLogs.stage, line.stage), eq(experimentLogs.message, withoutStoragePaths(line.message))))
    .limit(1);
  return row?.seq ?? null;
}

/**
 * Records a metrics point; a retried attempt re-training an epoch replaces its earlier point
 * instead of adding a second one (unique experiment, epoch, step).
 */
export async function recordMetrics(db: Db, lease: Lease, point: { epoch: number; step: number; values: Record<string, number> }, run: RunUpdate = {}): Promise<void> {
  const values = Object.fromEntries(Object.entries(point.values).filter(([, v]) => Number.isFinite(v)));
  await db.transaction(async (tx) => {
    const row = await updateUnderLease(tx, lease, run);
    if (!row) throw new LeaseLost(lease.experimentId);
    await tx
      .insert(experimentMetrics)
      .values({ experimentId: lease.experimentId, epoch: point.epoch, step: point.step, values })
      .onConflictDoUpdate({ target: [experimentMetrics.experimentId, experimentMetrics.epoch, experimentMetrics.step], set: { values, createdAt: sql`now()` } });
    await publish(tx, { type: "experiment.metrics", teamId: lease.teamId, topic: experimentTopicOf(lease.experimentId), experimentId: lease.experimentId, ...point, values });
    if (Object.keys(run).length > 0) await publishStatus(tx, lease.teamId, lease.experimentId);
  });
}

/**
 * Ends the attempt with a final status. Returns false when the lease is gone. `pausing` ends as
 * `paused` and `stopping` as `stopped` whatever the trainer reported, so a request is never lost.
 */
export async function finishRun(db: Db, lease: Lease, outcome: { status: "completed" | "paused" | "stopped" | "failed"; error?: string | null; progress?: number }): Promise<boolean> {
  return db.transaction(async (tx) => {
    const row = await updateUnderLease(tx, lease, {
      status: outcome.status,
      error: outcome.error ?? null,
      ...(outcome.progress !== undefined && { progress: outcome.progress }),
      finishedAt: outcome.status === "paused" ? null : new Date(),
    });
    if (!row) return false;
    await tx.update(experiments).set({ leaseToken: null, heartbeatAt: null }).where(eq(experiments.id, lease.experimentId));
    await publishStatus(tx, lease.teamId, lease.experimentId);
    return true;
  });
}
