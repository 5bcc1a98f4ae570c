import { and, asc, desc, eq, gte, lt, lte, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { runPlacements, systemSamples, systemSamplesMinute, type GpuReading, type RunProcessReading, type SystemSampleMinuteRow, type SystemSampleRow } from "@/db/schema";

/** 1 s samples are kept this long; older figures come from the minute rollups. */
export const SECOND_SAMPLES_KEPT_MS = 60 * 60 * 1000;
export const MINUTE_SAMPLES_KEPT_MS = 30 * 24 * 60 * 60 * 1000;
/** A host whose newest sample is older than this is not being sampled (its worker is gone or stuck). */
export const SAMPLE_STALE_MS = 5_000;

export type SampleFigures = Omit<SystemSampleRow, "host" | "at">;

/** The newest sample of every host sampled within the last `withinMs`, with its age by the database's clock. */
export async function latestSamples(db: Db, withinMs = SECOND_SAMPLES_KEPT_MS): Promise<(SystemSampleRow & { ageMs: number })[]> {
  const rows = await db
    .selectDistinctOn([systemSamples.host], { sample: systemSamples, ageMs: sql<string>`extract(epoch from now() - ${systemSamples.at}) * 1000` })
    .from(systemSamples)
    .where(gte(systemSamples.at, sql`now() - make_interval(secs => ${withinMs / 1000})`))
    .orderBy(asc(systemSamples.host), desc(systemSamples.at));
  return rows.map((r) => ({ ...r.sample, ageMs: Math.max(0, Number(r.ageMs)) }));
}

export async function latestSample(db: Db, host: string): Promise<(SystemSampleRow & { ageMs: number }) | null> {
  const [row] = await db
    .select({ sample: systemSamples, ageMs: sql<string>`extract(epoch from now() - ${systemSamples.at}) * 1000` })
    .from(systemSamples)
    .where(eq(systemSamples.host, host))
    .orderBy(desc(systemSamples.at))
    .limit(1);
  return row ? { ...row.sample, ageMs: Math.max(0, Number(row.ageMs)) } : null;
}

export interface SeriesPoint {
  /** Milliseconds since the epoch. */
  t: number;
  cpuPercent: number;
  memoryPercent: number;
  /** Mean over the host's GPUs; null without GPU figures. */
  gpuUtilPercent: number | null;
  gpuMemoryPercent: number | null;
  gpuTemperatureC: number | null;
  /** The run's own process, when the series is a run's. */
  run: Omit<RunProcessReading, "experimentId" | "pid"> | null;
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
const round1 = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);

function gpuFigures(gpus: GpuReading[]) {
  const util = gpus.flatMap((g) => (g.utilPercent === null ? [] : [g.utilPercent]));
  const used = gpus.reduce((s, g) => s + (g.memoryUsedMiB ?? 0), 0);
  const total = gpus.reduce((s, g) => s + (g.memoryTotalMiB ?? 0), 0);
  const temps = gpus.flatMap((g) => (g.temperatureC === null ? [] : [g.temperatureC]));
  return { util: round1(mean(util)), memory: total > 0 ? round1((used / total) * 100) : null, temperature: temps.length ? Math.max(...temps) : null };
}

function toPoint(at: Date, row: SampleFigures, experimentId?: number): SeriesPoint {
  const gpu = gpuFigures(row.gpus);
  const own = experimentId === undefined ? undefined : row.runs.find((r) => r.experimentId === experimentId);
  return {
    t: at.getTime(),
    cpuPercent: row.cpuPercent,
    memoryPercent: row.memoryTotal > 0 ? Math.round((row.memoryUsed / row.memoryTotal) * 1000) / 10 : 0,
    gpuUtilPercent: gpu.util,
    gpuMemoryPercent: gpu.memory,
    gpuTemperatureC: gpu.temperature,
    run: own ? { cpuPercent: own.cpuPercent, rssBytes: own.rssBytes, gpuMemoryMiB: own.gpuMemoryMiB } : null,
  };
}

/** Every n-th point, so a chart gets at most `max` (the last one always kept). */
function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const step = Math.ceil(points.length / max);
  return points.filter((_, i) => i % step === 0 || i === points.length - 1);
}

export interface HostSeries {
  host: string;
  resolution: "1s" | "1min";
  points: SeriesPoint[];
  /** Why the GPU figures are null, from the newest sample of the window. */
  gpuUnavailable: string | null;
}

/**
 * A host's figures over [from, to]: 1 s samples while the window is within their hour, minute
 * rollups beyond. `experimentId` adds that run's own process figures.
 */
export async function hostSeries(db: Db, opts: { host: string; from: Date; to: Date; experimentId?: number; maxPoints?: number; now?: Date }): Promise<HostSeries> {
  const now = opts.now ?? new Date();
  const seconds = opts.from.getTime() >= now.getTime() - SECOND_SAMPLES_KEPT_MS;
  const rows: { at: Date; row: SampleFigures }[] = seconds
    ? (
        await db
          .select()
          .from(systemSamples)
          .where(and(eq(systemSamples.host, opts.host), gte(systemSamples.at, opts.from), lte(systemSamples.at, opts.to)))
          .orderBy(asc(systemSamples.at))
      ).map((row) => ({ at: row.at, row }))
    : (
        await db
          .select()
          .from(systemSamplesMinute)
          .where(and(eq(systemSamplesMinute.host, opts.host), gte(systemSamplesMinute.minute, new Date(Math.floor(opts.from.getTime() / 60_000) * 60_000)), lte(systemSamplesMinute.minute, opts.to)))
          .orderBy(asc(systemSamplesMinute.minute))
      ).map((row) => ({ at: row.minute, row }));
  return {
    host: opts.host,
    resolution: seconds ? "1s" : "1min",
    points: thin(rows.map(({ at, row }) => toPoint(at, row, opts.experimentId)), opts.maxPoints ?? 600),
    gpuUnavailable: rows.at(-1)?.row.gpuUnavailable ?? null,
  };
}

const meanOf = (rows: SampleFigures[], pick: (row: SampleFigures) => number | null) => mean(rows.flatMap((r) => (pick(r) === null ? [] : [pick(r)!])));
const maxOf = (values: (number | null)[]) => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? Math.max(...present) : null;
};

/** One minute of a host's 1 s samples (oldest first) as a rollup: means, and maxima for temperature and memory. */
export function rollupMinute(rows: SampleFigures[]): Omit<SystemSampleMinuteRow, "host" | "minute"> {
  const last = rows[rows.length - 1];
  const round = (value: number | null) => (value === null ? null : Math.round(value));
  const cores = last.cpuCores.map((_, i) => round1(meanOf(rows, (r) => r.cpuCores[i] ?? null)) ?? 0);
  const gpus: GpuReading[] = last.gpus.map((gpu) => {
    const same = rows.flatMap((r) => r.gpus.filter((g) => g.index === gpu.index));
    const avg = (pick: (g: GpuReading) => number | null) => round1(mean(same.flatMap((g) => (pick(g) === null ? [] : [pick(g)!]))));
    return {
      ...gpu,
      utilPercent: avg((g) => g.utilPercent),
      memoryUtilPercent: avg((g) => g.memoryUtilPercent),
      memoryUsedMiB: maxOf(same.map((g) => g.memoryUsedMiB)),
      temperatureC: maxOf(same.map((g) => g.temperatureC)),
      powerW: avg((g) => g.powerW),
      smClockMHz: avg((g) => g.smClockMHz),
      memoryClockMHz: avg((g) => g.memoryClockMHz),
      fanPercent: avg((g) => g.fanPercent),
      processes: [],
    };
  });
  const runIds = [...new Set(rows.flatMap((r) => r.runs.map((run) => run.experimentId)))];
  const runs: RunProcessReading[] = runIds.map((experimentId) => {
    const readings = rows.flatMap((r) => r.runs.filter((run) => run.experimentId === experimentId));
    return {
      experimentId,
      pid: readings[readings.length - 1].pid,
      cpuPercent: round1(mean(readings.flatMap((r) => (r.cpuPercent === null ? [] : [r.cpuPercent])))),
      rssBytes: maxOf(readings.map((r) => r.rssBytes)),
      gpuMemoryMiB: maxOf(readings.map((r) => r.gpuMemoryMiB)),
    };
  });
  return {
    samples: rows.length,
    cpuPercent: round1(meanOf(rows, (r) => r.cpuPercent))!,
    cpuPercentMax: Math.max(...rows.map((r) => r.cpuPercent)),
    cpuCores: cores,
    load1: meanOf(rows, (r) => r.load1)!,
    load5: meanOf(rows, (r) => r.load5)!,
    load15: meanOf(rows, (r) => r.load15)!,
    memoryUsed: Math.max(...rows.map((r) => r.memoryUsed)),
    memoryTotal: last.memoryTotal,
    memoryAvailable: round(meanOf(rows, (r) => r.memoryAvailable))!,
    swapUsed: Math.max(...rows.map((r) => r.swapUsed)),
    swapTotal: last.swapTotal,
    diskUsed: last.diskUsed,
    diskTotal: last.diskTotal,
    netRxBytesPerSecond: round1(meanOf(rows, (r) => r.netRxBytesPerSecond)),
    netTxBytesPerSecond: round1(meanOf(rows, (r) => r.netTxBytesPerSecond)),
    gpus,
    gpuUnavailable: last.gpuUnavailable,
    runs,
  };
}

/**
 * Rolls every complete minute since the newest rollup (at most the last hour) up into
 * system_samples_minute, then deletes 1 s samples older than an hour, and rollups and run placements
 * older than 30 days.
 * Idempotent: a minute rolled twice is overwritten with the same figures.
 */
export async function rollupAndPrune(db: Db, now = new Date()): Promise<{ minutes: number; prunedSamples: number; prunedMinutes: number }> {
  const currentMinute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  const [{ newest }] = await db.select({ newest: sql<Date | null>`max(${systemSamplesMinute.minute})` }).from(systemSamplesMinute);
  const earliest = new Date(now.getTime() - SECOND_SAMPLES_KEPT_MS);
  const from = newest && new Date(newest) > earliest ? new Date(new Date(newest).getTime() - 60_000) : earliest;
  const rows = await db
    .select()
    .from(systemSamples)
    .where(and(gte(systemSamples.at, from), lt(systemSamples.at, currentMinute)))
    .orderBy(asc(systemSamples.host), asc(systemSamples.at));
  const groups = new Map<string, { host: string; minute: Date; rows: SystemSampleRow[] }>();
  for (const row of rows) {
    const minute = new Date(Math.floor(row.at.getTime() / 60_000) * 60_000);
    const key = `${row.host}\u0000${minute.getTime()}`;
    const group = groups.get(key) ?? { host: row.host, minute, rows: [] };
    group.rows.push(row);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    const rollup = { host: group.host, minute: group.minute, ...rollupMinute(group.rows) };
    const { host: _host, minute: _minute, ...figures } = rollup;
    void _host;
    void _minute;
    await db.insert(systemSamplesMinute).values(rollup).onConflictDoUpdate({ target: [systemSamplesMinute.host, systemSamplesMinute.minute], set: figures });
  }
  const prunedSamples = await db.delete(systemSamples).where(lt(systemSamples.at, earliest)).returning({ at: systemSamples.at });
  const prunedMinutes = await db
    .delete(systemSamplesMinute)
    .where(lt(systemSamplesMinute.minute, new Date(now.getTime() - MINUTE_SAMPLES_KEPT_MS)))
    .returning({ minute: systemSamplesMinute.minute });
  // A placement outlives its samples only to name the run's host; gone with its last rollup.
  await db.delete(runPlacements).where(lt(runPlacements.lastSeenAt, new Date(now.getTime() - MINUTE_SAMPLES_KEPT_MS)));
  return { minutes: groups.size, prunedSamples: prunedSamples.length, prunedMinutes: prunedMinutes.length };
}
