import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { z } from "zod";
import type { Db, DbOrTx } from "@/db/client";
import { experiments, isExperimentIn, resumableExperimentStatuses, type ExperimentStatus } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { resolveImportPath } from "@/server/datasets/import";
import { getArchitecture } from "@/server/architectures/service";
import { getAugmentation } from "@/server/augmentations/service";
import { getDataset } from "@/server/datasets/queries";
import { env } from "@/server/env";
import { Conflict, Invalid, isUniqueViolation, parseInput, referencedBy } from "@/server/errors";
import { enqueue, type QueueDeps } from "@/server/jobs/enqueue";
import { parseDevice } from "@/server/ml/backend/index";
import { parseTrainConfig, TrainConfigError } from "@/server/ml/train/config";
import { formatPipelineIssue, validatePipeline } from "@/server/ml/augment";
import { findZooModel } from "@/server/ml/zoo/index";
import { getProject } from "@/server/projects/service";
import { listWorkers } from "@/server/system/workers";
import { assertMayRunCommand } from "./command";
import { checkStartingWeights } from "./pretrained";
import { publishStatus } from "./lease";
import { getExperiment, type ExperimentView } from "./queries";
import { cloneExperimentInput, createExperimentInput, defaultHyperparameters, renameExperimentInput, resumeExperimentInput, type CreateExperimentInput } from "./schemas";

/** The pipeline must be one training can run: seed 002 stores pipelines as sent, unknown ops and all. */
async function trainableAugmentation(ctx: Ctx, id: number) {
  const row = await referencedBy("augmentationId", getAugmentation(ctx, id));
  const checked = validatePipeline(row.pipeline);
  if (!checked.ok) {
    throw new Invalid(`Augmentation pipeline "${row.name}" cannot be trained with: ${checked.errors.map(formatPipelineIssue).join("; ")}`, { augmentationId: ["pipeline has unknown or invalid ops"] });
  }
}

/** The engine's own check of the hyper-parameters and device, so a bad value fails now, not in the worker. */
function checkTrainConfig(input: { task: "classify" | "detect"; model: string; hyperparameters: Record<string, unknown>; device: string }) {
  const { command: _command, ...engineKeys } = input.hyperparameters;
  void _command;
  try {
    parseTrainConfig({ ...engineKeys, task: input.task, data: "dataset", model: input.model, device: input.device });
  } catch (error) {
    if (error instanceof TrainConfigError) throw new Invalid(error.message, { [`hyperparameters.${error.field ?? ""}`.replace(/\.$/, "")]: [error.message] });
    throw error;
  }
}

const CPU_DEVICES = ["auto", "cpu", "wasm", "ort", "ort:cpu"];

/** Every worker trains on its CPU; a GPU must be one a training worker has reported (`cuda:99` fails now, not in the worker). */
async function checkDeviceExists(db: Db, device: string): Promise<void> {
  if (CPU_DEVICES.includes(device.trim().toLowerCase())) return;
  const gpus = new Set((await listWorkers(db)).filter((w) => w.kind === "training").flatMap((w) => w.devices.map((d) => d.device)));
  if (gpus.has(parseDevice(device))) return;
  const known = [...CPU_DEVICES, ...[...gpus].filter((d) => !CPU_DEVICES.includes(d))];
  throw new Invalid(`device "${device}" is on no training worker; available: ${known.join(", ")}`, { device: ["no worker has this device"] });
}

async function markQueued(db: DbOrTx, id: number, from: ExperimentStatus[], extra: Partial<typeof experiments.$inferInsert> = {}) {
  const [row] = await db
    .update(experiments)
    .set({ ...extra, status: "queued", queuedAt: sql`now()`, error: null, finishedAt: null, updatedAt: sql`now()` })
    .where(and(eq(experiments.id, id), inArray(experiments.status, from)))
    .returning();
  return row;
}

export async function createExperiment(ctx: Ctx, rawInput: CreateExperimentInput, deps: QueueDeps = {}): Promise<ExperimentView> {
  requireRole(ctx, "member");
  const input = parseInput(createExperimentInput, rawInput);
  await getProject(ctx, input.projectId);
  const dataset = await getDataset(ctx, input.datasetId);
  if (dataset.status === "failed") throw new Invalid(`Dataset ${dataset.name} failed to import; pick another`, { datasetId: ["import failed"] });

  let modelForCheck: string;
  if (input.architectureId !== undefined) {
    const architecture = await referencedBy("architectureId", getArchitecture(ctx, input.architectureId));
    if (architecture.task !== dataset.task) {
      throw new Invalid(`Architecture ${architecture.name} is for ${architecture.task}, dataset ${dataset.name} is ${dataset.task}`, { architectureId: ["task differs from the dataset's"] });
    }
    modelForCheck = "architecture";
  } else {
    const name = input.model!;
    let zooTask: string;
    try {
      zooTask = findZooModel(name).task;
    } catch (error) {
      throw new Invalid((error as Error).message, { model: ["unknown zoo model"] });
    }
    if (zooTask !== dataset.task) throw new Invalid(`Model ${name} is for ${zooTask}, dataset ${dataset.name} is ${dataset.task}`, { model: ["task differs from the dataset's"] });
    modelForCheck = name;
  }
  const hyperparameters = await checkStartingWeights(ctx, input.hyperparameters, { task: dataset.task, model: input.model ?? null, architectureId: input.architectureId ?? null });
  if (input.augmentationId) await trainableAugmentation(ctx, input.augmentationId);
  const saveDir = input.saveDir === undefined ? null : await resolveImportPath(input.saveDir, env().importRoots).catch((error: Error) => {
    throw new Invalid(error.message, { saveDir: ["not an allowed server folder"] });
  });
  assertMayRunCommand(ctx, input.hyperparameters);
  checkTrainConfig({ task: dataset.task, model: modelForCheck, hyperparameters: input.hyperparameters, device: input.device });
  await checkDeviceExists(ctx.db, input.device);

  let id: number;
  try {
    const [row] = await ctx.db
      .insert(experiments)
      .values({
        projectId: input.projectId,
        name: input.name,
        task: dataset.task,
        datasetId: dataset.id,
        model: input.architectureId !== undefined ? null : input.model!,
        architectureId: input.architectureId ?? null,
        augmentationId: input.augmentationId ?? null,
        splitRatios: input.splitRatios ?? null,
        splitSeed: input.splitSeed,
        saveDir,
        hyperparameters,
        deviceRequested: input.device,
        totalEpochs: hyperparameters.epochs ?? defaultHyperparameters().epochs!,
        createdBy: ctx.caller.userId,
      })
      .returning({ id: experiments.id });
    id = row.id;
  } catch (error) {
    if (isUniqueViolation(error)) throw new Conflict(`An experiment named "${input.name}" already exists in this project`, { name: ["already taken"] });
    throw error;
  }
  if (input.start) return startExperiment(ctx, id, deps);
  return getExperiment(ctx, id);
}

/** A run whose dataset was deleted could only fail in the worker: say so now. */
function refuseWithoutDataset(experiment: ExperimentView): void {
  if (experiment.datasetId === null) throw new Conflict(`Experiment ${experiment.id}'s dataset was deleted, so it cannot train; clone it onto another dataset`, { datasetId: ["deleted"] });
}

/** Queues a never-started experiment; a worker slot picks it up (see job.ts). */
export async function startExperiment(ctx: Ctx, id: number, deps: QueueDeps = {}): Promise<ExperimentView> {
  requireRole(ctx, "member");
  const current = await getExperiment(ctx, id);
  if (current.status !== "created") {
    throw new Conflict(`Experiment ${id} is ${current.status}; ${isExperimentIn(current.status, resumableExperimentStatuses) ? "resume it instead" : "it has already started"}`);
  }
  refuseWithoutDataset(current);
  await ctx.db.transaction(async (tx) => {
    const row = await markQueued(tx, id, ["created"]);
    if (!row) throw new Conflict(`Experiment ${id} changed meanwhile; reload it`);
    // Written in the same transaction: the job and the queued status exist together or not at all.
    await enqueue("experiments.train", { experimentId: id, attempt: row.attempt }, { tx, boss: deps.boss });
    await publishStatus(tx, ctx.caller.teamId, id);
  });
  return getExperiment(ctx, id);
}

/** Stops a run: queued or paused ones at once, running ones at the next step (the worker kills it after a grace period). */
export async function stopExperiment(ctx: Ctx, id: number): Promise<ExperimentView> {
  requireRole(ctx, "member");
  const current = await getExperiment(ctx, id);
  if (current.status === "created") throw new Conflict(`Experiment ${id} has not started, so there is nothing to stop; delete it instead`);
  const immediate: ExperimentStatus[] = ["queued", "paused"];
  const next: ExperimentStatus | null = immediate.includes(current.status) ? "stopped" : ["running", "pausing"].includes(current.status) ? "stopping" : null;
  if (!next) {
    if (current.status === "stopping") return current;
    throw new Conflict(`Experiment ${id} is ${current.status}; only queued, running or paused experiments can be stopped`);
  }
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(experiments)
      .set({ status: next, updatedAt: sql`now()`, ...(next === "stopped" && { finishedAt: sql`now()` }) })
      .where(and(eq(experiments.id, id), eq(experiments.status, current.status)))
      .returning({ id: experiments.id });
    if (!row) throw new Conflict(`Experiment ${id} changed meanwhile; reload it`);
    await publishStatus(tx, ctx.caller.teamId, id);
  });
  return getExperiment(ctx, id);
}

/** Pauses a running experiment: it finishes the current step, writes a checkpoint and frees its slot. */
export async function pauseExperiment(ctx: Ctx, id: number): Promise<ExperimentView> {
  requireRole(ctx, "member");
  const current = await getExperiment(ctx, id);
  if (current.hyperparameters.command) throw new Conflict(`Experiment ${id} runs an external command, which cannot be paused; stop it instead`);
  const next: ExperimentStatus | null = current.status === "running" ? "pausing" : current.status === "queued" ? "paused" : null;
  if (!next) {
    if (current.status === "pausing" || current.status === "paused") return current;
    throw new Conflict(`Experiment ${id} is ${current.status}; only queued or running experiments can be paused`);
  }
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(experiments)
      .set({ status: next, updatedAt: sql`now()` })
      .where(and(eq(experiments.id, id), eq(experiments.status, current.status)))
      .returning({ id: experiments.id });
    if (!row) throw new Conflict(`Experiment ${id} changed meanwhile; reload it`);
    await publishStatus(tx, ctx.caller.teamId, id);
  });
  return getExperiment(ctx, id);
}

/**
 * Re-queues a paused, stopped, failed or completed experiment; it continues from its run folder's
 * last checkpoint (or starts afresh when there is none). Epochs, lr0 and patience may change first.
 */
export async function resumeExperiment(ctx: Ctx, rawInput: z.input<typeof resumeExperimentInput>, deps: QueueDeps = {}): Promise<ExperimentView> {
  requireRole(ctx, "member");
  const input = parseInput(resumeExperimentInput, rawInput);
  const current = await getExperiment(ctx, input.id);
  if (!isExperimentIn(current.status, resumableExperimentStatuses)) throw new Conflict(`Experiment ${input.id} is ${current.status}; only paused, stopped, failed or completed experiments can be resumed`);
  refuseWithoutDataset(current);
  const epochs = input.epochs ?? current.totalEpochs;
  if (current.status === "completed" && epochs <= current.currentEpoch) {
    throw new Invalid(`Experiment ${input.id} already trained ${current.currentEpoch} epochs; pass epochs > ${current.currentEpoch} to continue`, { epochs: [`must be > ${current.currentEpoch}`] });
  }
  const overrides = Object.fromEntries(Object.entries({ epochs: input.epochs, lr0: input.lr0, patience: input.patience }).filter(([, v]) => v !== undefined));
  const hyperparameters = { ...current.hyperparameters, ...overrides };
  await ctx.db.transaction(async (tx) => {
    // With a new total, progress is epochs done over it, as the run will report it from its next epoch on.
    const progress = epochs !== current.totalEpochs ? Math.min(100, (current.currentEpoch / epochs) * 100) : current.progress;
    const row = await markQueued(tx, input.id, [current.status], { hyperparameters, totalEpochs: epochs, retries: 0, progress });
    if (!row) throw new Conflict(`Experiment ${input.id} changed meanwhile; reload it`);
    await enqueue("experiments.train", { experimentId: input.id, attempt: row.attempt }, { tx, boss: deps.boss });
    await publishStatus(tx, ctx.caller.teamId, input.id);
  });
  return getExperiment(ctx, input.id);
}

export async function renameExperiment(ctx: Ctx, rawInput: z.input<typeof renameExperimentInput>): Promise<ExperimentView> {
  requireRole(ctx, "member");
  const input = parseInput(renameExperimentInput, rawInput);
  await getExperiment(ctx, input.id);
  try {
    await ctx.db.update(experiments).set({ name: input.name, updatedAt: sql`now()` }).where(eq(experiments.id, input.id));
  } catch (error) {
    if (isUniqueViolation(error)) throw new Conflict(`An experiment named "${input.name}" already exists in this project`, { name: ["already taken"] });
    throw error;
  }
  return getExperiment(ctx, input.id);
}

/** A new, unstarted experiment with the same dataset, model, augmentation and hyper-parameters. */
export async function cloneExperiment(ctx: Ctx, rawInput: z.input<typeof cloneExperimentInput>): Promise<ExperimentView> {
  requireRole(ctx, "member");
  const input = parseInput(cloneExperimentInput, rawInput);
  const source = await getExperiment(ctx, input.id);
  if (source.datasetId === null) throw new Conflict(`Experiment ${input.id}'s dataset was deleted; it cannot be cloned`);
  // The copy runs as its cloner, so cloning an administrator's command run needs an administrator.
  assertMayRunCommand(ctx, source.hyperparameters);
  const base = input.name ?? `${source.name} copy`;
  for (let n = 1; n <= 50; n++) {
    const name = input.name || n === 1 ? base : `${base} ${n}`;
    try {
      const [row] = await ctx.db
        .insert(experiments)
        .values({
          projectId: source.projectId,
          name,
          task: source.task,
          datasetId: source.datasetId,
          model: source.model,
          architectureId: source.architectureId,
          augmentationId: source.augmentationId,
          splitRatios: source.splitRatios,
          splitSeed: source.splitSeed,
          // Not saveDir: a copy must not overwrite the original's exported results.
          hyperparameters: source.hyperparameters,
          deviceRequested: source.deviceRequested,
          totalEpochs: source.totalEpochs,
          createdBy: ctx.caller.userId,
        })
        .returning({ id: experiments.id });
      return getExperiment(ctx, row.id);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      if (input.name) throw new Conflict(`An experiment named "${input.name}" already exists in this project`, { name: ["already taken"] });
    }
  }
  throw new Conflict(`Too many copies of "${source.name}"; name the clone`);
}

/** Deletes the experiment's rows, logs, metrics and run folder; refused while a run process may be alive. */
export async function deleteExperiment(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx, "member");
  const current = await getExperiment(ctx, id);
  const [deleted] = await ctx.db
    .delete(experiments)
    .where(and(eq(experiments.id, id), sql`${experiments.status} not in ('running', 'pausing', 'stopping')`))
    .returning({ runDir: experiments.runDir });
  if (!deleted) throw new Conflict(`Experiment ${id} is ${current.status}; stop it before deleting it`, { id: [current.status] });
  if (deleted.runDir) await removeRunFolder(deleted.runDir);
}

/** Only folders under the storage root's runs/ are ours to delete. */
async function removeRunFolder(runDir: string): Promise<void> {
  const runsRoot = path.join(env().dataDir, "runs") + path.sep;
  const resolved = path.resolve(runDir);
  if (!resolved.startsWith(runsRoot)) throw new Error(`refusing to delete ${resolved}: it is not under ${runsRoot}`);
  if (await stat(resolved).catch(() => null)) await rm(resolved, { recursive: true, force: true });
}
