/**
 * What the run's child process does (entry: workers/run-experiment.ts): trains one attempt of an
 * experiment under its lease, turning the engine's events into rows and live events, beating the
 * heartbeat and honouring pause/stop. A separate process so that a stop can kill it hard and a crash
 * or an out-of-memory never takes the worker down.
 */
import { spawn } from "node:child_process";
import { chown, stat } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { eq } from "drizzle-orm";
import { connect, retryWhileUnavailable, type Db } from "@/db/client";
import { experiments, projects, users, type ExperimentStatus, type LogStage } from "@/db/schema";
import { getArchitecture } from "@/server/architectures/service";
import { getAugmentation } from "@/server/augmentations/service";
import { systemContext, type Ctx } from "@/server/context";
import { getDatasetForTraining, type TrainingDataset } from "@/server/datasets/training";
import { Conflict, DomainError, NotFound, PermanentError } from "@/server/errors";
import { AugmentPipelineError } from "@/server/ml/augment/pipeline";
import { DeviceUnavailableError, initBackend, parseDevice, type BackendInfo } from "@/server/ml/backend/index";
import { MissingKernelError } from "@/server/ml/backend/kernel-compose";
import { prewarmGradientThreads } from "@/server/ml/backend/parallel";
import { ImageDecodeError } from "@/server/ml/data/image";
import { DatasetError } from "@/server/ml/data/imagefolder";
import { LayerError } from "@/server/ml/graph/registry";
import { GraphError } from "@/server/ml/graph/schema";
import { ClassMismatchError } from "@/server/ml/train/adapter";
import { CHECKPOINT_EXTENSION, CheckpointError } from "@/server/ml/train/checkpoint";
import { TrainError } from "@/server/ml/train/events";
import { train, type TrainEvent, type TrainResult } from "@/server/ml/train/loop";
import { TrainConfigError, trainConfigSchema } from "@/server/ml/train/config";
import { resolveWorkers } from "@/server/ml/train/stepper";
import { createRunFolder, RunFolderError } from "@/server/ml/train/run-folder";
import { fineTuneWeightsFile } from "@/server/weights/fine-tune";
import "@/server/ml/detect/adapter";
import { commandArgv, commandIdentity, CommandRefused, scrubbedEnvironment } from "./command";
import { appendLog, findLoggedLine, finishRun, LeaseLost, readControl, recordMetrics, updateRun, type Lease, type LogLine } from "./lease";
import { RUN_EXIT, type RunProcessOptions, type RunToWorker, type WorkerToRun } from "./run-protocol";
import { createLogParser, type ParsedMetrics } from "./log-parser";
import { pretrainedFileForRun } from "./pretrained";
import { copyRunResults } from "./save-dir";

/** The engine's errors that a retry cannot fix (server/ml stands alone, so they cannot extend PermanentError). */
const ENGINE_PERMANENT_ERRORS = [
  TrainConfigError,
  GraphError,
  LayerError,
  DatasetError,
  ImageDecodeError,
  ClassMismatchError,
  CheckpointError,
  RunFolderError,
  TrainError,
  DeviceUnavailableError,
  AugmentPipelineError,
  MissingKernelError,
];

/** A run that fails with one of these fails at once instead of being re-queued; running out of memory would only repeat. */
function isPermanentError(error: unknown): boolean {
  if (error instanceof PermanentError || error instanceof DomainError) return true;
  if (ENGINE_PERMANENT_ERRORS.some((type) => error instanceof type)) return true;
  return /out of memory|\bOOM\b|allocation failed|Invalid array length/i.test((error as Error)?.message ?? "");
}

class CommandFailed extends PermanentError {}

type RunRow = typeof experiments.$inferSelect & { projectName: string };

export async function runExperimentProcess(options: RunProcessOptions): Promise<number> {
  const handle = connect(options.databaseUrl, { max: 3 });
  const { db } = handle;
  const lease: Lease = { experimentId: options.experimentId, token: options.leaseToken, attempt: options.attempt, teamId: options.teamId };
  let status: ExperimentStatus = "running";
  let polling = false;
  let leaseLost = false;
  // The worker beats the heartbeat (a long synchronous step would stall ours); this only reads requests.
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      status = await readControl(db, lease);
    } catch (error) {
      if (error instanceof LeaseLost) {
        // Another attempt owns the run folder now: leave at once, writing nothing more.
        leaseLost = true;
        console.error(`[run ${options.experimentId}] ${error.message}`);
        process.exit(RUN_EXIT.leaseLost);
      }
      // A database hiccup: the next poll tries again.
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), options.heartbeatMs);
  const stopAnsweringWorker = answerWorker(options.experimentId);
  try {
    await poll();
    const [row] = await db
      .select({ experiment: experiments, projectName: projects.name })
      .from(experiments)
      .innerJoin(projects, eq(projects.id, experiments.projectId))
      .where(eq(experiments.id, options.experimentId));
    if (!row || row.experiment.leaseToken !== options.leaseToken) return RUN_EXIT.leaseLost;
    const run: RunRow = { ...row.experiment, projectName: row.projectName };
    const control = () => status;
    const writes = durableWrites(db, lease, run.logSeq);
    const outcome = run.hyperparameters.command ? await runCommand(db, lease, run, options, control) : await runEngine(db, writes, lease, run, options, control);
    if (outcome === "completed" && run.saveDir) await saveResults(db, lease, run.saveDir);
    const finished = await writes.retry(() => finishRun(db, lease, { status: outcome, ...(outcome === "completed" && { progress: 100 }) }));
    return finished ? RUN_EXIT.finished : RUN_EXIT.leaseLost;
  } catch (error) {
    if (error instanceof LeaseLost || leaseLost) return RUN_EXIT.leaseLost;
    const message = error instanceof Error ? error.message : String(error);
    const permanent = isPermanentError(error);
    await appendLog(db, lease, { level: "error", stage: "failed", message: permanent ? `Training failed: ${message}` : `Training interrupted: ${message}; retrying from the last checkpoint` }).catch(() => {});
    if (!permanent) return RUN_EXIT.retry;
    return (await finishRun(db, lease, { status: "failed", error: message }).catch(() => false)) ? RUN_EXIT.finished : RUN_EXIT.leaseLost;
  } finally {
    clearInterval(timer);
    stopAnsweringWorker();
    await handle.close();
  }
}

/**
 * Proves to the worker that this process is alive: it answers the worker's pings whenever its event
 * loop turns (job.ts kills a run that stops answering). A worker that dies, even by SIGKILL, closes
 * the channel: its run must not go on training unsupervised, outside any slot count.
 */
function answerWorker(experimentId: number): () => void {
  if (!process.connected) return () => {};
  const answer = (message: WorkerToRun) => {
    if (message?.type === "ping") tellWorker({ type: "pong" });
  };
  const orphaned = () => {
    console.error(`[run ${experimentId}] the worker is gone: stopping; the run is re-queued from its last checkpoint`);
    process.exit(RUN_EXIT.leaseLost);
  };
  process.on("message", answer);
  process.once("disconnect", orphaned);
  return () => {
    process.off("message", answer);
    process.off("disconnect", orphaned);
  };
}

function tellWorker(message: RunToWorker): void {
  if (process.connected) process.send!(message, () => {});
}

type DurableWrites = ReturnType<typeof durableWrites>;

/**
 * The run's writes, tried again while the database is unreachable: training waits (still answering
 * the worker's pings) and goes on where it was, so a database restart loses and doubles nothing.
 */
function durableWrites(db: Db, lease: Lease, logSeqAtStart: number) {
  let knownSeq = logSeqAtStart;
  const retry = <T>(write: () => Promise<T>): Promise<T> => {
    let told = false;
    return retryWhileUnavailable(write, (error) => {
      if (!told) console.error(`[run ${lease.experimentId}] the database is unreachable, waiting for it: ${(error as Error).message}`);
      told = true;
    });
  };
  return {
    retry,
    /** A line whose commit was cut off may have landed: a retry looks for it before writing it again. */
    async log(line: LogLine): Promise<number> {
      let tried = false;
      const seq = await retry(async () => {
        const landed = tried ? await findLoggedLine(db, lease, knownSeq, line) : null;
        tried = true;
        return landed ?? appendLog(db, lease, line);
      });
      knownSeq = Math.max(knownSeq, seq);
      return seq;
    },
  };
}

/**
 * Copies the completed run's weights and results into its save folder. The training itself succeeded,
 * so a failed copy is logged as an error naming the folder; the run still completes.
 */
async function saveResults(db: Db, lease: Lease, saveDir: string) {
  const [row] = await db.select({ runDir: experiments.runDir }).from(experiments).where(eq(experiments.id, lease.experimentId));
  try {
    if (!row?.runDir) throw new Error("the run has no run folder");
    const copied = await copyRunResults(row.runDir, saveDir);
    await appendLog(db, lease, { level: "info", stage: "completed", message: `Copied ${copied.join(", ")} to ${saveDir}` });
  } catch (error) {
    await appendLog(db, lease, { level: "error", stage: "completed", message: `Could not copy the results to ${saveDir}: ${(error as Error).message}` });
  }
}

async function loadDataset(ctx: Ctx, run: RunRow, options: RunProcessOptions, control: () => ExperimentStatus): Promise<TrainingDataset> {
  if (run.datasetId === null) throw new Conflict(`experiment ${run.id}'s dataset was deleted`);
  const deadline = Date.now() + (options.datasetWaitMs ?? 30 * 60_000);
  for (;;) {
    try {
      return await getDatasetForTraining(ctx, run.datasetId, run.splitRatios ? { ratios: run.splitRatios, seed: run.splitSeed } : undefined);
    } catch (error) {
      // An import still running finishes on its own; anything else is the user's to fix.
      const importing = error instanceof Conflict && /status importing/.test(error.message);
      if (!importing || Date.now() > deadline || control() !== "running") throw error;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

const exists = async (file: string) => (await stat(file).catch(() => null))?.isFile() ?? false;

/** A row of the team the run names, or null when it was deleted since the run was queued. */
async function unlessDeleted<T>(lookup: Promise<T>): Promise<T | null> {
  try {
    return await lookup;
  } catch (error) {
    if (error instanceof NotFound) return null;
    throw error;
  }
}

/** Run folder name: the experiment's name when it is a plain folder name, else experiment-<id>. */
function runFolderName(run: { id: number; name: string }): string {
  return /^[\w.-]+$/.test(run.name) ? run.name : `experiment-${run.id}`;
}

const engineStages: Record<string, LogStage> = {
  start: "start",
  epoch_start: "epoch_start",
  training: "training",
  validation: "validation",
  epoch_end: "epoch_end",
  completed: "completed",
  stopped: "stopped",
};

async function runEngine(db: Db, writes: DurableWrites, lease: Lease, run: RunRow, options: RunProcessOptions, control: () => ExperimentStatus): Promise<TrainResult["status"]> {
  // train() reads a resumed run's checkpoint into tensors before it picks the backend; pick it first.
  const backend = await initBackend(parseDevice(run.deviceRequested));
  // Data-parallel threads take about a second to load: they start now, while the dataset loads.
  const threads = dataParallelThreads(run.hyperparameters.workers, backend);
  if (threads > 1) prewarmGradientThreads(threads - 1);
  // The run reads what it trains on as its team's, for the member who started it.
  const ctx = systemContext(db, options.teamId, { purpose: `training run ${run.id}`, onBehalfOf: run.createdBy });
  const dataset = await loadDataset(ctx, run, options, control);
  let model: unknown = run.model;
  if (run.architectureId !== null) {
    const architecture = await unlessDeleted(getArchitecture(ctx, run.architectureId));
    if (!architecture) throw new Conflict(`experiment ${run.id}'s architecture was deleted`);
    model = architecture.graph;
  } else if (!model) {
    throw new Conflict(`experiment ${run.id} has neither a zoo model nor an architecture`);
  }
  // A pipeline deleted meanwhile leaves the run unaugmented, as the experiment's row now says.
  const augment = run.augmentationId === null ? undefined : (await unlessDeleted(getAugmentation(ctx, run.augmentationId)))?.pipeline;

  const { command: _command, weights: weightsId, ...hyperparameters } = run.hyperparameters;
  void _command;
  // Fine-tuning from a library entry: the engine loads its file (a resumed run takes its own checkpoint instead).
  const pretrained =
    typeof weightsId === "number"
      ? { pretrained: await fineTuneWeightsFile(ctx, weightsId) }
      : typeof hyperparameters.pretrained === "string" && { pretrained: await pretrainedFileForRun(hyperparameters.pretrained) };
  const base = { ...hyperparameters, ...pretrained, task: run.task, data: dataset.index, model, ...(augment !== undefined && { augment }), device: run.deviceRequested };
  const resumable = run.runDir !== null && (await exists(path.join(run.runDir, "weights", `last${CHECKPOINT_EXTENSION}`)));
  const config = resumable
    ? { ...base, runsDir: path.dirname(path.dirname(run.runDir!)), project: path.basename(path.dirname(run.runDir!)), name: path.basename(run.runDir!), resume: true }
    : { ...base, runsDir: path.join(options.dataDir, "runs"), project: run.projectName, name: runFolderName(run), exist_ok: false };

  const onEvent = async (event: TrainEvent) => {
    switch (event.type) {
      case "start":
        await writes.retry(() => updateRun(db, lease, { backend: event.backend.description, totalEpochs: event.epochs, runDir: event.runDir, currentEpoch: event.startEpoch }));
        break;
      case "epoch_start":
        await writes.retry(() => updateRun(db, lease, { currentEpoch: event.epoch, totalEpochs: event.epochs }));
        break;
      case "step":
        // Steps are what a long synchronous computation cannot fake: the worker's stall limit follows them.
        tellWorker({ type: "progress" });
        await writes.retry(() =>
          recordMetrics(
            db,
            lease,
            { epoch: event.epoch, step: event.step, values: { loss: event.loss, lr: event.lr, images_per_sec: event.imgsPerSec } },
            { progress: ((event.epoch - 1 + event.step / event.steps) / event.epochs) * 100 },
          ),
        );
        break;
      case "epoch_end":
        tellWorker({ type: "progress" });
        await writes.retry(() =>
          recordMetrics(
            db,
            lease,
            { epoch: event.epoch, step: 0, values: event.metrics },
            {
              currentEpoch: event.epoch,
              progress: (event.epoch / event.epochs) * 100,
              latestMetrics: event.metrics,
              epochSeconds: event.seconds,
              ...(event.isBest && { bestMetrics: event.metrics, bestEpoch: event.epoch }),
            },
          ),
        );
        break;
      case "log":
        await writes.log({ level: event.level, stage: engineStages[event.stage] ?? "training", message: event.message, epoch: event.epoch ?? null });
        break;
    }
  };
  const result = await train(config as Parameters<typeof train>[0], {
    onEvent,
    control: () => (control() === "pausing" ? "pause" : control() === "stopping" ? "stop" : "continue"),
  });
  return result.status;
}

/** The threads train() will use for this `workers` setting; 1 for a setting train() will refuse (it says why). */
function dataParallelThreads(setting: unknown, backend: BackendInfo): number {
  const parsed = trainConfigSchema.shape.workers.safeParse(setting);
  if (!parsed.success) return 1;
  try {
    return resolveWorkers(parsed.data, backend, { task: "any", dataParallel: true });
  } catch {
    return 1;
  }
}

/**
 * Who asked for the command, checked again when it runs: the worker's host must allow commands and
 * the experiment's creator must still be an enabled studio administrator.
 */
async function commandRequester(db: Db, run: RunRow, options: RunProcessOptions) {
  if (!options.allowCommands) throw new CommandRefused("External-command runs are turned off on this worker's host (STUDIO_ALLOW_COMMANDS)");
  const [user] = run.createdBy === null ? [] : await db.select({ id: users.id, email: users.email, isAdmin: users.isAdmin, disabled: users.disabled }).from(users).where(eq(users.id, run.createdBy));
  if (!user || !user.isAdmin || user.disabled) throw new CommandRefused("External commands run only for studio administrators, and this experiment's creator is not one");
  return user;
}

/**
 * A run whose trainer is an external command: executed without a shell in the run folder; stdout and
 * stderr become log lines, and metrics are parsed from them (seed 001 and Ultralytics formats).
 * Pause is not possible; stop terminates the command.
 */
async function runCommand(db: Db, lease: Lease, run: RunRow, options: RunProcessOptions, control: () => ExperimentStatus): Promise<"completed" | "stopped"> {
  const requester = await commandRequester(db, run, options);
  const argv = commandArgv(run.hyperparameters.command);
  const identity = commandIdentity();
  const runDir = run.runDir ?? (await createRunFolder({ runsDir: path.join(options.dataDir, "runs"), project: run.projectName, name: runFolderName(run) })).dir;
  if (identity.uid !== undefined) await chown(runDir, identity.uid, identity.gid!);
  await updateRun(db, lease, { runDir, backend: "external command" });
  const audit = `Running command ${JSON.stringify(argv)} in ${runDir} as ${identity.user}, asked by ${requester.email} (user ${requester.id})`;
  console.log(`[run ${run.id}] ${audit}`);
  await appendLog(db, lease, { level: "info", stage: "start", message: audit });

  const child = spawn(argv[0], argv.slice(1), { cwd: runDir, env: scrubbedEnvironment(runDir), uid: identity.uid, gid: identity.gid, stdio: ["ignore", "pipe", "pipe"] });
  const epochMetrics = new Map<number, ParsedMetrics>();
  let epoch = 0;
  let totalEpochs = run.totalEpochs;
  let writes = Promise.resolve();
  const lastErrors: string[] = [];

  const follow = (stream: NodeJS.ReadableStream, level: "info" | "warn") => {
    const parse = createLogParser();
    readline.createInterface({ input: stream }).on("line", (line) => {
      if (!line.trim()) return;
      if (level === "warn") {
        lastErrors.push(line);
        if (lastErrors.length > 20) lastErrors.shift();
      }
      const parsed = parse(line);
      if (parsed?.epoch !== undefined) epoch = parsed.epoch;
      if (parsed?.total_epochs !== undefined) totalEpochs = parsed.total_epochs;
      const stage: LogStage = !parsed ? "training" : Object.keys(parsed).some((k) => k.startsWith("val") || k.startsWith("mAP") || k.startsWith("top")) ? "validation" : parsed.epoch !== undefined && Object.keys(parsed).length <= 2 ? "epoch_start" : "training";
      // Writes run one after another; the line's epoch is fixed now, before later lines move it on.
      const lineEpoch = epoch;
      const lineTotal = totalEpochs;
      writes = writes.then(async () => {
        await appendLog(db, lease, { level, stage, message: line, epoch: lineEpoch || null });
        if (parsed && lineEpoch > 0) {
          const merged = { ...(epochMetrics.get(lineEpoch) ?? {}), ...parsed };
          epochMetrics.set(lineEpoch, merged);
          const progress = lineTotal > 0 ? Math.min(100, (lineEpoch / lineTotal) * 100) : 0;
          await recordMetrics(db, lease, { epoch: lineEpoch, step: 0, values: merged }, { currentEpoch: lineEpoch, totalEpochs: lineTotal, latestMetrics: merged, progress });
        }
      });
    });
  };
  follow(child.stdout!, "info");
  follow(child.stderr!, "warn");

  let stopped = false;
  const watch = setInterval(() => {
    if (control() === "stopping" || control() === "pausing") {
      stopped = true;
      child.kill("SIGTERM");
    }
  }, 500);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", (error) => reject(new CommandFailed(`could not start ${argv[0]}: ${error.message}`)));
    child.on("close", (code, signal) => resolve({ code, signal }));
  }).finally(() => clearInterval(watch));
  await writes;
  if (stopped) return "stopped";
  if (exit.code !== 0) throw new CommandFailed(`command exited with ${exit.signal ?? `code ${exit.code}`}${lastErrors.length ? `: ${lastErrors.slice(-3).join(" | ")}` : ""}`);
  await appendLog(db, lease, { level: "info", stage: "completed", message: `Command finished; results in ${runDir}` });
  return "completed";
}
