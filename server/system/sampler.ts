import os from "node:os";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { runPlacements, systemSamples, workers } from "@/db/schema";
import { publish } from "@/server/events/bus";
import { SYSTEM_TOPIC, type StudioEvent } from "@/server/events/types";
import { createHostCollector, type HostSample, type HostSamplerOptions } from "./host-sample";
import { WORKER_ALIVE_SECONDS } from "./workers";

export interface HostSampler {
  /** Samples written by this process so far. */
  readonly written: number;
  /** Whether this process samples its host now (one training worker per host does). */
  readonly leading: boolean;
  stop(): Promise<void>;
}

export interface StartHostSamplerOptions extends HostSamplerOptions {
  db: Db;
  /** This worker's row in `workers`: the live training worker with the lowest id on a host samples it. */
  workerId(): number;
  host?: string;
  intervalMs?: number;
  /** How often a worker checks whether it is the one that samples (a dead leader is replaced this fast). */
  leaderCheckMs?: number;
  onError?: (error: Error) => void;
}

/** The figures of a sample that go on the event bus (NOTIFY stays small; the row has the rest). */
export function sampleEvent(host: string, at: Date, sample: HostSample): StudioEvent {
  return {
    type: "system.sample",
    teamId: null,
    topic: SYSTEM_TOPIC,
    host,
    at: at.toISOString(),
    cpuPercent: sample.cpuPercent,
    memoryUsed: sample.memoryUsed,
    memoryTotal: sample.memoryTotal,
    diskUsed: sample.diskUsed,
    diskTotal: sample.diskTotal,
    gpus: sample.gpus.slice(0, 32).map((g) => ({
      index: g.index,
      name: g.name.slice(0, 200),
      utilPercent: g.utilPercent,
      memoryUsedMiB: g.memoryUsedMiB,
      memoryTotalMiB: g.memoryTotalMiB,
      temperatureC: g.temperatureC,
    })),
    gpuUnavailable: sample.gpuUnavailable?.slice(0, 500) ?? null,
  };
}

/** Writes one sample at `at` (whole seconds) and announces it, in one transaction; a second writer for the same second is ignored. */
export async function writeSample(db: Db, host: string, at: Date, sample: HostSample): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await tx.insert(systemSamples).values({ host, at, ...sample }).onConflictDoNothing().returning({ at: systemSamples.at });
    if (inserted.length === 0) return false;
    await publish(tx, sampleEvent(host, at, sample));
    return true;
  });
}

/** Records that these runs' processes are alive on `host` now (first sight starts the placement). */
export async function touchPlacements(db: Db, host: string, workerPid: number, runs: ReadonlyMap<number, number>): Promise<void> {
  if (runs.size === 0) return;
  await db
    .insert(runPlacements)
    .values([...runs].map(([experimentId, pid]) => ({ experimentId, host, pid, workerPid })))
    .onConflictDoUpdate({ target: [runPlacements.experimentId, runPlacements.host, runPlacements.pid], set: { lastSeenAt: sql`now()` } });
}

/** Runs alive on `host` by any worker there (seen within the last few seconds): experiment id → pid. */
export async function hostRuns(db: Db, host: string): Promise<Map<number, number>> {
  const rows = await db
    .select({ experimentId: runPlacements.experimentId, pid: runPlacements.pid })
    .from(runPlacements)
    .where(and(eq(runPlacements.host, host), gt(runPlacements.lastSeenAt, sql`now() - interval '5 seconds'`)));
  return new Map(rows.map((r) => [r.experimentId, r.pid]));
}

async function leadsHost(db: Db, host: string, workerId: number): Promise<boolean> {
  const [first] = await db
    .select({ id: workers.id })
    .from(workers)
    .where(and(eq(workers.host, host), eq(workers.kind, "training"), gt(workers.heartbeatAt, sql`now() - make_interval(secs => ${WORKER_ALIVE_SECONDS})`)))
    .orderBy(asc(workers.id))
    .limit(1);
  return first?.id === workerId;
}

/**
 * Every training worker runs this: once a second it records where its runs' processes are; the one
 * that leads its host (the live training worker with the lowest id there) also samples the host,
 * with every worker's runs mapped to their pids, and publishes the sample.
 */
export function startHostSampler(options: StartHostSamplerOptions): HostSampler {
  const { db } = options;
  const host = options.host ?? os.hostname();
  const intervalMs = options.intervalMs ?? 1000;
  const leaderCheckMs = options.leaderCheckMs ?? 10_000;
  // A database outage fails every tick: say so when the failure changes, and once a minute while it lasts.
  let lastReport = { message: "", at: 0 };
  const report =
    options.onError ??
    ((error: Error) => {
      if (error.message === lastReport.message && Date.now() - lastReport.at < 60_000) return;
      lastReport = { message: error.message, at: Date.now() };
      console.error(`[sampler] ${error.message}`);
    });
  let leading = false;
  let leaderCheckedAt = 0;
  let written = 0;
  let allRuns: ReadonlyMap<number, number> = new Map();
  const collector = createHostCollector({ ...options, runs: () => allRuns });
  let running: Promise<void> | null = null;
  let stopped = false;

  const tick = async () => {
    const own = options.runs();
    await touchPlacements(db, host, process.pid, own);
    if (Date.now() - leaderCheckedAt >= leaderCheckMs) {
      leaderCheckedAt = Date.now();
      leading = await leadsHost(db, host, options.workerId());
    }
    if (!leading) return;
    allRuns = new Map([...(await hostRuns(db, host)), ...own]);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const sample = await collector.collect();
    if (await writeSample(db, host, at, sample)) written++;
  };

  const timer = setInterval(() => {
    // A slow tick (a database hiccup) makes the next one skip rather than pile up.
    if (running || stopped) return;
    running = tick()
      .catch((error: Error) => report(error))
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();

  return {
    get written() {
      return written;
    },
    get leading() {
      return leading;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
