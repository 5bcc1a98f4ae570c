import { and, asc, eq, gt, sql } from "drizzle-orm";
import { z } from "zod";
import { experiments, projects, runPlacements, systemSamples, teams } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Conflict, Forbidden, NotFound, parseInput } from "@/server/errors";
import { publishStatus } from "@/server/experiments/lease";
import { queuePlaces, TRAIN_QUEUE } from "@/server/experiments/queue-order";
import { BOSS_SCHEMA } from "@/server/jobs/registry";
import { latestSamples, SAMPLE_STALE_MS } from "./samples";
import { listWorkers, type WorkerStatus } from "./workers";

/** How far back a device's sparkline reaches. */
const SPARKLINE_SECONDS = 60;

export interface FleetDevice {
  /** "cpu", or "cuda:<index>" for a GPU. */
  device: string;
  name: string;
  utilPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  temperatureC: number | null;
  /** Utilisation over the last minute, one point per sample. */
  sparkline: { t: number; v: number | null }[];
}

/** A run holding a slot. Another team's run is shown without its name: the slots are shared, the runs are not. */
export interface FleetRun {
  experimentId: number | null;
  name: string | null;
  teamName: string | null;
  ownTeam: boolean;
  pid: number;
  device: string;
  progress: number;
  startedAt: Date | null;
}

export interface FleetHost {
  host: string;
  /** No training worker with a fresh heartbeat: the host is down. */
  down: boolean;
  workers: Pick<WorkerStatus, "id" | "pid" | "slots" | "version" | "lastBeatSecondsAgo" | "alive">[];
  slots: number;
  slotsInUse: number;
  /** Age of the newest sample; null when the host was never sampled within the hour. */
  sampleAgeSeconds: number | null;
  sampled: boolean;
  gpuUnavailable: string | null;
  devices: FleetDevice[];
  runs: FleetRun[];
}

export interface FleetQueueEntry {
  position: number;
  experimentId: number | null;
  name: string | null;
  teamName: string | null;
  ownTeam: boolean;
  priority: number;
  device: string;
  queuedAt: Date | null;
  waitingSeconds: number;
}

export interface FleetView {
  hosts: FleetHost[];
  queue: FleetQueueEntry[];
  /** Studio administrators may cancel and re-prioritise queued runs. */
  canManage: boolean;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** Names of runs the caller may see: their own team's, or every team's for a studio administrator. */
function visible(ctx: Ctx, row: { id: number; name: string; teamId: number; teamName: string }) {
  const ownTeam = row.teamId === ctx.caller.teamId;
  const shown = ownTeam || ctx.caller.isAdmin;
  return { experimentId: shown ? row.id : null, name: shown ? row.name : null, teamName: shown ? row.teamName : null, ownTeam };
}

async function sparklines(ctx: Ctx): Promise<Map<string, { t: number; cpu: number; gpus: Map<number, number | null> }[]>> {
  const rows = await ctx.db
    .select({ host: systemSamples.host, at: systemSamples.at, cpu: systemSamples.cpuPercent, gpus: systemSamples.gpus })
    .from(systemSamples)
    .where(gt(systemSamples.at, sql`now() - make_interval(secs => ${SPARKLINE_SECONDS})`))
    .orderBy(asc(systemSamples.host), asc(systemSamples.at));
  const byHost = new Map<string, { t: number; cpu: number; gpus: Map<number, number | null> }[]>();
  for (const row of rows) {
    const list = byHost.get(row.host) ?? [];
    list.push({ t: row.at.getTime(), cpu: row.cpu, gpus: new Map(row.gpus.map((g) => [g.index, g.utilPercent])) });
    byHost.set(row.host, list);
  }
  return byHost;
}

/**
 * Every training host with its devices (CPU and each GPU: utilisation, memory, temperature, the last
 * minute), its slots and the runs in them, and the queue of waiting runs in the order they will start.
 */
export async function fleetView(ctx: Ctx): Promise<FleetView> {
  const [allWorkers, samples, lines, live, queued, places] = await Promise.all([
    listWorkers(ctx.db),
    latestSamples(ctx.db),
    sparklines(ctx),
    ctx.db
      .select({ host: runPlacements.host, pid: runPlacements.pid, id: experiments.id, name: experiments.name, teamId: projects.teamId, teamName: teams.name, device: experiments.deviceRequested, backend: experiments.backend, progress: experiments.progress, startedAt: experiments.startedAt })
      .from(runPlacements)
      .innerJoin(experiments, eq(experiments.id, runPlacements.experimentId))
      .innerJoin(projects, eq(projects.id, experiments.projectId))
      .innerJoin(teams, eq(teams.id, projects.teamId))
      .where(gt(runPlacements.lastSeenAt, sql`now() - interval '5 seconds'`))
      .orderBy(asc(runPlacements.host), asc(runPlacements.startedAt)),
    ctx.db
      .select({
        id: experiments.id,
        name: experiments.name,
        teamId: projects.teamId,
        teamName: teams.name,
        device: experiments.deviceRequested,
        queuedAt: experiments.queuedAt,
        waitingSeconds: sql<string>`extract(epoch from now() - ${experiments.queuedAt})`,
      })
      .from(experiments)
      .innerJoin(projects, eq(projects.id, experiments.projectId))
      .innerJoin(teams, eq(teams.id, projects.teamId))
      .where(eq(experiments.status, "queued")),
    queuePlaces(ctx.db),
  ]);
  const training = allWorkers.filter((w) => w.kind === "training");
  const hostNames = [...new Set([...training.map((w) => w.host), ...samples.map((s) => s.host)])].sort();
  const hosts = hostNames.map((host): FleetHost => {
    const hostWorkers = training.filter((w) => w.host === host);
    const alive = hostWorkers.filter((w) => w.alive);
    const sample = samples.find((s) => s.host === host);
    const points = lines.get(host) ?? [];
    const devices: FleetDevice[] = sample
      ? [
          {
            device: "cpu",
            name: `CPU (${sample.cpuCores.length} cores)`,
            utilPercent: sample.cpuPercent,
            memoryUsedBytes: sample.memoryUsed,
            memoryTotalBytes: sample.memoryTotal,
            temperatureC: null,
            sparkline: points.map((p) => ({ t: p.t, v: p.cpu })),
          },
          ...sample.gpus.map((gpu) => ({
            device: `cuda:${gpu.index}`,
            name: gpu.name,
            utilPercent: gpu.utilPercent,
            memoryUsedBytes: gpu.memoryUsedMiB === null ? null : gpu.memoryUsedMiB * 2 ** 20,
            memoryTotalBytes: gpu.memoryTotalMiB === null ? null : gpu.memoryTotalMiB * 2 ** 20,
            temperatureC: gpu.temperatureC,
            sparkline: points.map((p) => ({ t: p.t, v: p.gpus.get(gpu.index) ?? null })),
          })),
        ]
      : [];
    const runs = live
      .filter((r) => r.host === host)
      .map((r) => ({ ...visible(ctx, r), pid: r.pid, device: r.backend ?? r.device, progress: r.progress, startedAt: r.startedAt }));
    return {
      host,
      down: alive.length === 0,
      workers: hostWorkers.map(({ id, pid, slots, version, lastBeatSecondsAgo, alive: up }) => ({ id, pid, slots, version, lastBeatSecondsAgo, alive: up })),
      slots: alive.reduce((s, w) => s + w.slots, 0),
      slotsInUse: runs.length,
      sampleAgeSeconds: sample ? round1(sample.ageMs / 1000) : null,
      sampled: sample !== undefined && sample.ageMs <= SAMPLE_STALE_MS,
      gpuUnavailable: sample?.gpuUnavailable ?? null,
      devices,
      runs,
    };
  });
  const queue = queued
    .map((q) => ({ ...visible(ctx, q), position: places.get(q.id)?.position ?? 0, priority: places.get(q.id)?.priority ?? 0, device: q.device, queuedAt: q.queuedAt, waitingSeconds: Math.max(0, Math.round(Number(q.waitingSeconds ?? 0))) }))
    .sort((a, b) => a.position - b.position);
  return { hosts, queue, canManage: ctx.caller.isAdmin };
}

export const queuedRunInput = z.object({ experimentId: z.number().int().positive().max(2_147_483_647) });
export const reprioritiseInput = queuedRunInput.extend({
  /** Higher starts sooner; 0 is everyone's default. */
  priority: z.number().int().min(-100).max(100),
});

function requireStudioAdmin(ctx: Ctx): void {
  if (!ctx.caller.isAdmin) throw new Forbidden("Only studio administrators can manage the fleet's queue");
}

async function queuedRun(ctx: Ctx, experimentId: number) {
  const [row] = await ctx.db
    .select({ id: experiments.id, status: experiments.status, teamId: projects.teamId })
    .from(experiments)
    .innerJoin(projects, eq(projects.id, experiments.projectId))
    .where(eq(experiments.id, experimentId));
  if (!row) throw new NotFound(`Experiment ${experimentId} not found`, { experimentId: ["not found"] });
  if (row.status !== "queued") throw new Conflict(`Experiment ${experimentId} is ${row.status}, not queued`, { experimentId: [`is ${row.status}`] });
  return row;
}

const waitingJob = (experimentId: number) =>
  sql`name = ${TRAIN_QUEUE} and state < 'active' and data->>'experimentId' = ${String(experimentId)}`;

/** A studio administrator takes a waiting run (of any team) out of the queue: it is stopped, its job cancelled. */
export async function cancelQueuedRun(ctx: Ctx, input: z.input<typeof queuedRunInput>): Promise<{ experimentId: number; status: "stopped" }> {
  requireStudioAdmin(ctx);
  const { experimentId } = parseInput(queuedRunInput, input);
  const run = await queuedRun(ctx, experimentId);
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(experiments)
      .set({ status: "stopped", finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(experiments.id, experimentId), eq(experiments.status, "queued")))
      .returning({ id: experiments.id });
    if (!row) throw new Conflict(`Experiment ${experimentId} left the queue meanwhile; reload`);
    await tx.execute(sql`update ${sql.identifier(BOSS_SCHEMA)}.job set state = 'cancelled', completed_on = now() where ${waitingJob(experimentId)}`);
    await publishStatus(tx, run.teamId, experimentId);
  });
  return { experimentId, status: "stopped" };
}

/** A studio administrator moves a waiting run up or down: its job's pg-boss priority; returns its new position. */
export async function reprioritiseQueuedRun(ctx: Ctx, input: z.input<typeof reprioritiseInput>): Promise<{ experimentId: number; priority: number; position: number }> {
  requireStudioAdmin(ctx);
  const { experimentId, priority } = parseInput(reprioritiseInput, input);
  await queuedRun(ctx, experimentId);
  const updated = await ctx.db.execute(sql`update ${sql.identifier(BOSS_SCHEMA)}.job set priority = ${priority} where ${waitingJob(experimentId)} returning id`);
  if (updated.length === 0) throw new Conflict(`Experiment ${experimentId} has no waiting job (a slot is taking it now?); reload`);
  const place = (await queuePlaces(ctx.db)).get(experimentId);
  return { experimentId, priority, position: place?.position ?? 0 };
}
