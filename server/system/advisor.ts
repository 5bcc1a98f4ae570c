import { and, desc, eq, gt, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { batchMeasurements, datasets, experiments, runPlacements, systemSamples, type GpuReading } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Conflict, Invalid, parseInput, Unavailable } from "@/server/errors";
import { enqueue, type QueueDeps } from "@/server/jobs/enqueue";
import { parseDevice } from "@/server/ml/backend/index";
import { resolveOptimizer } from "@/server/ml/train/config";
import { analyzeGraph } from "@/server/ml/graph/index";
import { findZooModel, zooGraph } from "@/server/ml/zoo/index";
import { datasetForOldClients } from "@/server/projects/default-dataset";
import { adviseTraining, MAX_STRIDE, type AdviceMeasurements, type Suggestion } from "./advice-rules";
import { latestSamples, SAMPLE_STALE_MS } from "./samples";
import { listWorkers } from "./workers";

type Project = { id: number; name: string; defaultDatasetId: number | null };

/** A measurement older than this is taken again: drivers, memory and the studio change. */
const MEASUREMENT_FRESH_DAYS = 7;

export interface FleetResources {
  /** Null, with `reason`, when no training host reported figures in the last few seconds. */
  cpuPercent: number | null;
  memoryPercent: number | null;
  memoryAvailableBytes: number | null;
  gpus: (Pick<GpuReading, "index" | "name" | "utilPercent" | "memoryUsedMiB" | "memoryTotalMiB"> & { host: string })[];
  hosts: { host: string; cores: number }[];
  /** Runs holding a slot now, over every team (the slots are shared). */
  activeRuns: number;
  /** Slots of the live training workers. */
  slots: number;
  reason: string | null;
}

/** The live training hosts' newest samples added up: CPU weighted by cores, memory summed, every GPU. */
export async function fleetResources(ctx: Ctx): Promise<FleetResources> {
  const [samples, workers, [{ active }]] = await Promise.all([
    latestSamples(ctx.db, SAMPLE_STALE_MS),
    listWorkers(ctx.db),
    ctx.db.select({ active: sql<number>`count(distinct ${runPlacements.experimentId})::int` }).from(runPlacements).where(gt(runPlacements.lastSeenAt, sql`now() - interval '5 seconds'`)),
  ]);
  const slots = workers.filter((w) => w.alive && w.kind === "training").reduce((s, w) => s + w.slots, 0);
  if (samples.length === 0) {
    return { cpuPercent: null, memoryPercent: null, memoryAvailableBytes: null, gpus: [], hosts: [], activeRuns: Number(active), slots, reason: "no training host has reported figures in the last 5 s (is a training worker running?)" };
  }
  const cores = samples.reduce((s, x) => s + x.cpuCores.length, 0);
  const used = samples.reduce((s, x) => s + x.memoryUsed, 0);
  const total = samples.reduce((s, x) => s + x.memoryTotal, 0);
  return {
    cpuPercent: samples.reduce((s, x) => s + x.cpuPercent * x.cpuCores.length, 0) / Math.max(1, cores),
    memoryPercent: total > 0 ? (used / total) * 100 : 0,
    memoryAvailableBytes: samples.reduce((s, x) => s + x.memoryAvailable, 0),
    gpus: samples.flatMap((x) => x.gpus.map((g) => ({ host: x.host, index: g.index, name: g.name, utilPercent: g.utilPercent, memoryUsedMiB: g.memoryUsedMiB, memoryTotalMiB: g.memoryTotalMiB }))),
    hosts: samples.map((x) => ({ host: x.host, cores: x.cpuCores.length })),
    activeRuns: Number(active),
    slots,
    reason: null,
  };
}

/** What a client plans, in the engine's terms (the dialect maps its field names onto these). */
export const plannedTrainingSchema = z.object({
  model: z.string().trim().min(1).max(200),
  batch: z.number().int().min(-1).max(65_536).nullable().default(null),
  imgsz: z.number().int().min(1).max(2048).nullable().default(null),
  cache: z.union([z.literal(false), z.literal("ram"), z.literal("disk")]).default(false),
  epochs: z.number().int().min(1).max(100_000).default(100),
  device: z.string().trim().min(1).max(40).default("auto"),
});
export type PlannedTraining = z.input<typeof plannedTrainingSchema>;

function zooFacts(model: string, imgsz: number | null, numClasses: number) {
  let zoo;
  try {
    zoo = findZooModel(model);
  } catch (error) {
    throw new Invalid((error as Error).message, { model_type: ["unknown zoo model"] });
  }
  const size = imgsz ?? (zoo.task === "classify" ? 64 : 640);
  const graph = zooGraph(model, { imgsz: Math.max(size, zoo.minImgsz ?? 32), numClasses });
  return { task: zoo.task, imgsz: size, params: analyzeGraph(graph, [Math.max(size, zoo.minImgsz ?? 32), Math.max(size, zoo.minImgsz ?? 32), 3]).totalParams };
}

/** The project's dataset old clients train on, when it can be told (no error for a project without one). */
async function projectDataset(ctx: Ctx, project: Project) {
  const id = await datasetForOldClients(ctx, project).catch(() => null);
  if (id === null) return null;
  const [row] = await ctx.db.select({ classes: datasets.classes, stats: datasets.stats }).from(datasets).where(eq(datasets.id, id));
  return row ?? null;
}

/** The newest fresh AutoBatch measurement of this model and size on a live host (and this device, unless "auto"). */
async function newestMeasurement(ctx: Ctx, model: string, imgsz: number, device: string, liveHosts: string[]) {
  if (liveHosts.length === 0) return null;
  const [row] = await ctx.db
    .select()
    .from(batchMeasurements)
    .where(
      and(
        eq(batchMeasurements.model, model),
        eq(batchMeasurements.imgsz, imgsz),
        inArray(batchMeasurements.host, liveHosts),
        gt(batchMeasurements.measuredAt, sql`now() - make_interval(days => ${MEASUREMENT_FRESH_DAYS})`),
        device === "auto" ? undefined : eq(batchMeasurements.device, device),
      ),
    )
    .orderBy(desc(batchMeasurements.measuredAt))
    .limit(1);
  return row ?? null;
}

/** Last minute's CPU and GPU on the hosts where the project's runs train now. */
async function recentLoad(ctx: Ctx, projectId: number): Promise<AdviceMeasurements["recent"]> {
  const hosts = await ctx.db
    .selectDistinct({ host: runPlacements.host })
    .from(runPlacements)
    .innerJoin(experiments, eq(experiments.id, runPlacements.experimentId))
    .where(and(eq(experiments.projectId, projectId), gt(runPlacements.lastSeenAt, sql`now() - interval '5 seconds'`)));
  if (hosts.length === 0) return null;
  const rows = await ctx.db
    .select({ cpu: systemSamples.cpuPercent, gpus: systemSamples.gpus })
    .from(systemSamples)
    .where(and(inArray(systemSamples.host, hosts.map((h) => h.host)), gt(systemSamples.at, sql`now() - interval '60 seconds'`)));
  if (rows.length === 0) return null;
  const gpu = rows.flatMap((r) => r.gpus.flatMap((g) => (g.utilPercent === null ? [] : [g.utilPercent])));
  return { cpuPercent: rows.reduce((s, r) => s + r.cpu, 0) / rows.length, gpuUtilPercent: gpu.length ? gpu.reduce((a, b) => a + b, 0) / gpu.length : null };
}

const normalDevice = (device: string) => {
  try {
    return parseDevice(device);
  } catch (error) {
    throw new Invalid((error as Error).message, { device: ["unknown device"] });
  }
};

/** Seed 000 §5.1: the rules over the fleet's measurements and the plan; `resource_usage` is what they saw. */
export async function performanceSuggestions(ctx: Ctx, project: Project, planned: PlannedTraining): Promise<{ suggestions: Suggestion[]; resources: FleetResources }> {
  const plan = parseInput(plannedTrainingSchema, planned);
  const device = normalDevice(plan.device);
  const dataset = await projectDataset(ctx, project);
  const facts = zooFacts(plan.model, plan.imgsz, Math.max(1, dataset?.classes.length ?? 80));
  const resources = await fleetResources(ctx);
  const [measured, recent] = await Promise.all([newestMeasurement(ctx, plan.model, facts.imgsz, device, resources.hosts.map((h) => h.host)), recentLoad(ctx, project.id)]);
  const measurements: AdviceMeasurements = {
    cpuPercent: resources.cpuPercent,
    memoryPercent: resources.memoryPercent,
    memoryAvailableBytes: resources.memoryAvailableBytes,
    gpus: resources.reason ? null : resources.gpus.map((g) => ({ utilPercent: g.utilPercent, memoryPercent: g.memoryUsedMiB !== null && g.memoryTotalMiB ? (g.memoryUsedMiB / g.memoryTotalMiB) * 100 : null })),
    recent,
    measuredBatch: measured && { batch: measured.batch, device: measured.device, host: measured.host },
    datasetImages: dataset?.stats?.images ?? null,
    modelParams: facts.params,
  };
  return { suggestions: adviseTraining(measurements, { model: plan.model, task: facts.task, batch: plan.batch, imgsz: facts.imgsz, cache: plan.cache }), resources };
}

export interface OptimalConfig {
  epochs: number;
  batch: number;
  lr0: number;
  device: string;
  amp: boolean;
  cache: false | "ram" | "disk";
  workers: number;
  save_period: number;
  patience: number;
  optimizer: string;
}

export interface MeasureDeps extends QueueDeps {
  /** How long a request waits for a measurement a worker is taking. */
  waitMs?: number;
}

/**
 * Seed 000 §5.2: a config for this hardware. The batch is AutoBatch's measurement of the model on a
 * live host's device (taken by a worker now when there is none this week), the optimizer and lr0
 * Ultralytics' `auto` rule for the project's dataset, the cache what the hosts' free memory holds.
 */
export async function optimalConfig(ctx: Ctx, project: Project, planned: PlannedTraining, deps: MeasureDeps = {}): Promise<OptimalConfig> {
  const plan = parseInput(plannedTrainingSchema, planned);
  const device = normalDevice(plan.device);
  const dataset = await projectDataset(ctx, project);
  const numClasses = Math.max(1, dataset?.classes.length ?? 80);
  const facts = zooFacts(plan.model, plan.imgsz, numClasses);
  if (facts.imgsz % MAX_STRIDE !== 0) throw new Invalid(`image_size ${facts.imgsz} is not a multiple of ${MAX_STRIDE}`, { image_size: [`must be a multiple of ${MAX_STRIDE}`] });
  const resources = await fleetResources(ctx);
  // Nothing to measure on: the fleet's state, not a fault of the request or the server.
  if (resources.reason) throw new Conflict(`Cannot measure ${plan.model} for this hardware: ${resources.reason}`);
  const hosts = resources.hosts.map((h) => h.host);
  let measured = await newestMeasurement(ctx, plan.model, facts.imgsz, device, hosts);
  if (!measured) {
    const askedAt = Date.now();
    await enqueue("system.measure-batch", { model: plan.model, imgsz: facts.imgsz, numClasses, device }, { boss: deps.boss, singletonKey: `${plan.model}:${facts.imgsz}:${device}` }).catch((error: Error) => {
      // Someone asked for the same measurement a moment ago: wait for theirs.
      if (!/singleton key/.test(error.message)) throw error;
    });
    const waitMs = deps.waitMs ?? 90_000;
    while (!measured && Date.now() - askedAt < waitMs) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      measured = await newestMeasurement(ctx, plan.model, facts.imgsz, device, hosts);
    }
    if (!measured) throw new Unavailable(`AutoBatch is still measuring ${plan.model} at ${facts.imgsz} px on ${device} (a training worker runs it); ask again in a minute`);
  }
  const trainImages = dataset?.stats?.perSplit.train ?? dataset?.stats?.images ?? 0;
  // A batch beyond the training set would only repeat its images within one step.
  const batch = trainImages > 0 ? Math.min(measured.batch, trainImages) : measured.batch;
  const iterations = plan.epochs * Math.ceil(trainImages / batch);
  const optimizer = resolveOptimizer({ optimizer: "auto", lr0: 0.01, momentum: 0.937 }, numClasses, iterations);
  const host = resources.hosts.find((h) => h.host === measured.host);
  const cacheBytes = (dataset?.stats?.images ?? Number.POSITIVE_INFINITY) * facts.imgsz * facts.imgsz * 3;
  const free = resources.memoryAvailableBytes ?? 0;
  const singleThreaded = measured.backend === "wasm" || measured.backend === "cpu";
  return {
    epochs: plan.epochs,
    batch,
    lr0: optimizer.lr0,
    device: plan.device,
    // The engine trains in float32 everywhere (TF.js and ONNX Runtime's training graphs have no mixed precision).
    amp: false,
    cache: cacheBytes <= free * 0.5 ? "ram" : Number.isFinite(cacheBytes) ? "disk" : false,
    workers: singleThreaded ? Math.min(4, host?.cores ?? 1) : 1,
    save_period: Math.max(1, Math.round(plan.epochs / 5)),
    patience: Math.max(10, Math.min(100, Math.round(plan.epochs * 0.3))),
    optimizer: optimizer.name,
  };
}
