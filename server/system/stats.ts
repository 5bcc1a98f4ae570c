import { and, desc, eq, gt, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { runPlacements, systemSamples, workers, type GpuReading } from "@/db/schema";
import { NotFound } from "@/server/errors";
import { latestSample, SAMPLE_STALE_MS, SECOND_SAMPLES_KEPT_MS } from "./samples";

/** A host's figures as seed 002's `/ws/system` packet names them; null where the host has nothing to measure. */
export interface HostStats {
  /** Percent, mean over GPUs. */
  gpu_util: number | null;
  /** °C, hottest GPU. */
  gpu_temp: number | null;
  /** GB, summed over GPUs. */
  vram_used: number | null;
  vram_total: number | null;
  /** Percent of all cores busy over the last second. */
  cpu_load: number | null;
  /** Percent of the storage root's file system in use. */
  disk_usage: number | null;
}

/** The newest sample's figures a face shows: what HostStats is made from, with the memory beside it. */
export interface SampleFacts {
  host: string;
  at: Date;
  cpuPercent: number;
  cores: number;
  memoryUsed: number;
  memoryTotal: number;
  memoryAvailable: number;
  diskUsed: number | null;
  diskTotal: number | null;
  gpus: Pick<GpuReading, "index" | "name" | "utilPercent" | "memoryUsedMiB" | "memoryTotalMiB" | "temperatureC">[];
  gpuUnavailable: string | null;
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const present = (values: (number | null)[]) => values.filter((v): v is number => v !== null);

export const NO_FIGURES: HostStats = { gpu_util: null, gpu_temp: null, vram_used: null, vram_total: null, cpu_load: null, disk_usage: null };

/** §3.1's figures of a sample; a sample older than SAMPLE_STALE_MS (or none) gives nulls, never old figures as new. */
export function hostStatsOf(facts: Pick<SampleFacts, "cpuPercent" | "diskUsed" | "diskTotal" | "gpus"> | null): HostStats {
  if (!facts) return NO_FIGURES;
  const util = present(facts.gpus.map((g) => g.utilPercent));
  const temps = present(facts.gpus.map((g) => g.temperatureC));
  const used = present(facts.gpus.map((g) => g.memoryUsedMiB));
  const total = present(facts.gpus.map((g) => g.memoryTotalMiB));
  const gb = (mib: number[]) => (mib.length ? round1(mib.reduce((a, b) => a + b, 0) / 1024) : null);
  return {
    gpu_util: util.length ? round1(util.reduce((a, b) => a + b, 0) / util.length) : null,
    gpu_temp: temps.length ? Math.max(...temps) : null,
    vram_used: gb(used),
    vram_total: gb(total),
    cpu_load: round1(facts.cpuPercent),
    disk_usage: facts.diskUsed !== null && facts.diskTotal ? round1((facts.diskUsed / facts.diskTotal) * 100) : null,
  };
}

/**
 * The training host an old client sees when it names none: the one running the most runs now, then
 * the one whose GPUs (or CPUs) are busiest; null when no host has been sampled lately.
 */
export async function busiestHost(db: Db): Promise<string | null> {
  const [row] = await db
    .select({ host: systemSamples.host })
    .from(systemSamples)
    .leftJoin(runPlacements, and(eq(runPlacements.host, systemSamples.host), gt(runPlacements.lastSeenAt, sql`now() - interval '5 seconds'`)))
    .where(gt(systemSamples.at, sql`now() - interval '10 seconds'`))
    .groupBy(systemSamples.host)
    .orderBy(
      desc(sql`count(distinct ${runPlacements.experimentId})`),
      desc(sql`max(coalesce((select avg((g->>'utilPercent')::real) from jsonb_array_elements(${systemSamples.gpus}) g), -1))`),
      desc(sql`max(${systemSamples.cpuPercent})`),
      systemSamples.host,
    )
    .limit(1);
  return row?.host ?? null;
}

/** A host the studio knows: one with a worker row or a sample within the hour. */
export async function assertKnownHost(db: Db, host: string): Promise<void> {
  const [worker] = await db.select({ id: workers.id }).from(workers).where(eq(workers.host, host)).limit(1);
  if (worker) return;
  const [sample] = await db
    .select({ at: systemSamples.at })
    .from(systemSamples)
    .where(and(eq(systemSamples.host, host), gt(systemSamples.at, sql`now() - make_interval(secs => ${SECOND_SAMPLES_KEPT_MS / 1000})`)))
    .limit(1);
  if (!sample) throw new NotFound(`No training host named "${host}" has reported figures`, { host: ["unknown host"] });
}

/** The newest sample of `host` (default: the busiest), or null with the reason when there is none fresh. */
export async function currentFacts(db: Db, requestedHost?: string): Promise<{ host: string | null; facts: SampleFacts | null; reason: string | null }> {
  if (requestedHost !== undefined) await assertKnownHost(db, requestedHost);
  const host = requestedHost ?? (await busiestHost(db));
  if (!host) return { facts: null, host: null, reason: "no training host has reported figures in the last 10 s (is a training worker running?)" };
  const sample = await latestSample(db, host);
  if (!sample || sample.ageMs > SAMPLE_STALE_MS) {
    const age = sample ? `its newest sample is ${Math.round(sample.ageMs / 1000)} s old` : "it has no samples";
    return { facts: null, host, reason: `host ${host} is not being sampled: ${age} (its training worker is down?)` };
  }
  return {
    host,
    reason: null,
    facts: {
      host,
      at: sample.at,
      cpuPercent: sample.cpuPercent,
      cores: sample.cpuCores.length,
      memoryUsed: sample.memoryUsed,
      memoryTotal: sample.memoryTotal,
      memoryAvailable: sample.memoryAvailable,
      diskUsed: sample.diskUsed,
      diskTotal: sample.diskTotal,
      gpus: sample.gpus,
      gpuUnavailable: sample.gpuUnavailable,
    },
  };
}
