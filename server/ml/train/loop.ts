import { readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend, withDataParallelThreads, type BackendInfo } from "../backend/index";
import { assertSameClasses, createTaskAdapter, type PreparedTask, type TaskAdapter, type ValidationResult } from "./adapter";
import {
  assignWeights,
  disposeContents,
  readCheckpoint,
  saveCheckpoint,
  CheckpointError,
  type CheckpointContents,
  type TrainProgress,
} from "./checkpoint";
import { effectiveWarmupEpochs, parseTrainConfig, resolveOptimizer, type ResolvedOptimizer, type TrainConfig, type TrainConfigInput } from "./config";
import { TrainOptimizer, type TrainableVariable } from "./optimizers";
import { loadPretrained } from "./pretrained";
import { parseResultsCsv, resultsPlot, validationPlots, writePlots, type Plot } from "./plots";
import { createRunFolder, epochCheckpoint, openRunFolder, ResultsCsv, writeArgs, type RunFolder } from "./run-folder";
import { learningRateAt, type ScheduleOptions } from "./schedule";
import { createTrainStepper, planRounds, resolveMicroBatch, resolveTrainingBackend, resolveWorkers, type TrainStepper } from "./stepper";
import "./classify";
import "../detect/adapter";

export type LogStage = "start" | "epoch_start" | "training" | "validation" | "epoch_end" | "completed" | "stopped";

export type TrainEvent =
  | {
      type: "start";
      backend: BackendInfo;
      runDir: string;
      task: TrainConfig["task"];
      epochs: number;
      /** First epoch this process runs (> 1 when resuming). */
      startEpoch: number;
      resumed: boolean;
      classNames: string[];
      params: number;
      optimizer: ResolvedOptimizer;
      trainImages: number;
      valImages: number;
    }
  | { type: "epoch_start"; epoch: number; epochs: number }
  | { type: "step"; epoch: number; epochs: number; step: number; steps: number; loss: number; lr: number; imgsPerSec: number }
  | { type: "validation"; epoch: number; metrics: Record<string, number>; details?: Record<string, unknown> }
  | { type: "epoch_end"; epoch: number; epochs: number; metrics: Record<string, number>; isBest: boolean; seconds: number }
  | { type: "completed"; epochs: number; bestEpoch: number; bestFitness: number | null; stoppedEarly: boolean; runDir: string; metrics: Record<string, number> }
  | { type: "stopped" | "paused"; epoch: number; step: number; runDir: string }
  | { type: "log"; level: "info" | "warn" | "error"; message: string; stage: LogStage; epoch?: number };

export type TrainControl = "continue" | "stop" | "pause";

export interface TrainHooks {
  onEvent?(event: TrainEvent): void | Promise<void>;
  /** Polled between steps: "stop" ends the run, "pause" ends it resumably; both write weights/last. */
  control?(): TrainControl;
}

export interface TrainResult {
  status: "completed" | "stopped" | "paused";
  stoppedEarly: boolean;
  runDir: string;
  /** Epochs fully trained so far (over all resumes). */
  epochsCompleted: number;
  bestEpoch: number;
  bestFitness: number | null;
  /** Metrics of the last completed epoch, and of the best one. */
  metrics: Record<string, number>;
  bestMetrics: Record<string, number>;
  lastCheckpoint: string;
  bestCheckpoint: string;
}

export class TrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainError";
  }
}

const RESULTS_PLOT_INTERVAL_MS = 2000;

/** Settings a resumed run may change; everything else comes from the checkpoint. */
const RESUMABLE_KEYS = ["epochs", "lr0", "patience", "device", "workers", "log_every", "save_period", "val", "data", "runsDir"] as const;

/**
 * Trains `config.task` with the task's adapter. Pause/stop write weights/last with the position
 * inside the epoch; resume replays the interrupted epoch's data order, skips the batches already
 * trained and continues mid-epoch, so its metrics equal an uninterrupted run's.
 */
export async function train(input: TrainConfigInput, hooks: TrainHooks = {}, opts: { adapter?: TaskAdapter } = {}): Promise<TrainResult> {
  let config = parseTrainConfig(input);
  let resumeFolder: RunFolder | undefined;
  let resumeFrom: CheckpointContents | undefined;
  if (config.resume) {
    const folder = await openRunFolder(path.join(config.runsDir, config.project, config.name));
    resumeFolder = folder;
    resumeFrom = await readCheckpoint(folder.lastCheckpoint);
    const overrides = Object.fromEntries(RESUMABLE_KEYS.filter((key) => key in input).map((key) => [key, input[key]]));
    config = parseTrainConfig({ ...resumeFrom.header.config, ...overrides, resume: true, exist_ok: true });
    const done = resumeFrom.header.progress.epoch - 1;
    if (resumeFrom.header.progress.epoch > config.epochs) {
      disposeContents(resumeFrom);
      throw new TrainError(`cannot resume ${folder.dir}: it already trained ${done} of ${config.epochs} epochs; pass epochs > ${done} to continue`);
    }
  }

  const emit = async (event: TrainEvent) => {
    await hooks.onEvent?.(event);
  };
  const log = (message: string, stage: LogStage, level: "info" | "warn" | "error" = "info", epoch?: number) =>
    emit({ type: "log", level, message, stage, epoch });

  const backend = await initBackend(config.device);
  const adapter = opts.adapter ?? createTaskAdapter(config.task);
  const pendingLogs: { message: string; level: "info" | "warn" }[] = [];
  let prepared: PreparedTask<{ size: number }>;
  try {
    const expect = resumeFrom && resumeFolder && { classNames: resumeFrom.header.classNames, source: resumeFolder.lastCheckpoint };
    prepared = await adapter.prepare(config, (message, level = "info") => pendingLogs.push({ message, level }), expect);
  } catch (error) {
    if (resumeFrom) disposeContents(resumeFrom);
    throw error;
  }
  try {
    // Created only once the data and model are known to be fine, so failed starts leave no empty exp folders.
    const folder = resumeFolder ?? (await createRunFolder({ runsDir: config.runsDir, project: config.project, name: config.name, existOk: config.exist_ok }));
    return await runTraining({ config, folder, resumeFrom, adapter, prepared, backend, emit, log, pendingLogs, control: hooks.control });
  } finally {
    if (resumeFrom) disposeContents(resumeFrom);
    await prepared.trainLoader.close();
    await prepared.valLoader?.close();
    prepared.model.dispose();
  }
}

interface RunContext {
  config: TrainConfig;
  folder: RunFolder;
  resumeFrom?: CheckpointContents;
  adapter: TaskAdapter;
  prepared: PreparedTask<{ size: number }>;
  backend: BackendInfo;
  emit(event: TrainEvent): Promise<void>;
  log(message: string, stage: LogStage, level?: "info" | "warn" | "error", epoch?: number): Promise<void>;
  pendingLogs: { message: string; level: "info" | "warn" }[];
  control?: () => TrainControl;
}

async function runTraining(ctx: RunContext): Promise<TrainResult> {
  const { config, folder, resumeFrom, adapter, prepared, emit, log } = ctx;
  const { model, trainLoader, valLoader, classNames } = prepared;

  let optimizerChoice: ResolvedOptimizer;
  let progress: TrainProgress = { epoch: 1, step: 0, running: {}, trainSeconds: 0, bestFitness: null, bestEpoch: 0 };
  if (resumeFrom) {
    const saved = resumeFrom.header;
    assertSameClasses(classNames, { classNames: saved.classNames, source: folder.lastCheckpoint });
    assignWeights(model, resumeFrom.weights);
    if (!saved.optimizer) throw new CheckpointError(`${folder.lastCheckpoint} has no optimizer state to resume from`);
    optimizerChoice = { name: saved.optimizer.name, lr0: config.lr0 !== saved.config.lr0 ? config.lr0 : saved.optimizer.lr0, momentum: saved.optimizer.momentum, reason: "resumed" };
    progress = saved.progress;
    ctx.pendingLogs.push({ message: `Resuming ${folder.dir} from epoch ${progress.epoch}${progress.step > 0 ? ` step ${progress.step}` : ""}`, level: "info" });
  } else {
    optimizerChoice = resolveOptimizer(config, classNames.length, config.epochs * trainLoader.length);
    if (config.pretrained) {
      const lines = await loadPretrained({ model, classNames, zooModel: typeof config.model === "string" ? config.model : null }, config.pretrained);
      for (const message of lines) ctx.pendingLogs.push({ message, level: "info" });
    }
  }

  const trainable: TrainableVariable[] = model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable, decay: w.shape.length > 1 }));
  const optimizer = new TrainOptimizer({ name: optimizerChoice.name, momentum: optimizerChoice.momentum, nesterov: config.nesterov, weightDecay: config.weight_decay });
  let stepper: TrainStepper<{ size: number }> | undefined;
  let plotting = Promise.resolve();
  try {
    if (resumeFrom?.optimizer) optimizer.setState(resumeFrom.optimizer, trainable);
    const { graph, inputShape } = prepared;
    const trainingBackend = resolveTrainingBackend(ctx.backend, { model, graph, inputShape, adapter, log: (message) => ctx.pendingLogs.push({ message, level: "warn" }) });
    const workers = resolveWorkers(config.workers, trainingBackend, adapter);
    const microBatch = resolveMicroBatch(config.micro_batch, config.batch, trainingBackend, model, adapter);
    const stepLog = (message: string) => ctx.pendingLogs.push({ message, level: "info" });
    stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: config.clip_grad, workers, microBatch, backend: trainingBackend, graph, inputShape, log: stepLog });
    const backend = workers > 1 ? withDataParallelThreads(trainingBackend, workers) : trainingBackend;
    const argsForFile = { ...config, data: typeof config.data === "string" ? config.data : config.data.root, optimizer_resolved: optimizerChoice };
    await writeArgs(folder, argsForFile);
    const columns = ["epoch", ...adapter.resultsColumns.map(([, column]) => column), "lr/pg0", "time"];
    const results = resumeFrom ? await ResultsCsv.resume(folder.resultsFile, columns, progress.epoch) : ResultsCsv.create(folder.resultsFile, columns);

    await emit({
      type: "start",
      backend,
      runDir: folder.dir,
      task: config.task,
      epochs: config.epochs,
      startEpoch: progress.epoch,
      resumed: Boolean(resumeFrom),
      classNames,
      params: model.countParams(),
      optimizer: optimizerChoice,
      trainImages: trainLoader.count,
      valImages: valLoader?.count ?? 0,
    });
    for (const entry of ctx.pendingLogs) await log(entry.message, "start", entry.level);
    await log(`Device: ${backend.description}`, "start");
    const rounds = planRounds(config.batch, workers, microBatch).length;
    if (rounds > 1) await log(`Batch ${config.batch} in ${rounds} rounds of at most ${microBatch} image(s) per thread (micro_batch), gradients accumulated into one update`, "start");
    await log(`Optimizer: ${optimizerChoice.name}(lr0=${optimizerChoice.lr0}, momentum=${optimizerChoice.momentum}) — ${optimizerChoice.reason}`, "start");

    const schedule: ScheduleOptions = {
      lr0: optimizerChoice.lr0,
      lrf: config.lrf,
      epochs: config.epochs,
      cosLr: config.cos_lr,
      warmupEpochs: effectiveWarmupEpochs(config),
      stepsPerEpoch: trainLoader.length,
    };
    const checkpointBase = {
      model,
      task: config.task,
      classNames,
      inputShape: prepared.inputShape,
      graph: prepared.graph,
      seed: config.seed,
      config: { ...config } as Record<string, unknown>,
    };
    const save = (file: string, state: TrainProgress, metrics?: Record<string, number>) => {
      stepper?.sync();
      return saveCheckpoint(file, {
        ...checkpointBase,
        optimizer: { state: optimizer.getState(), lr0: optimizerChoice.lr0, momentum: optimizerChoice.momentum },
        progress: state,
        metrics,
      });
    };

    let lastMetrics = resumeFrom?.header.metrics ?? {};
    let bestMetrics = lastMetrics;
    let stoppedEarly = false;
    const resultOf = (status: TrainResult["status"], early: boolean, epochsCompleted: number): TrainResult => ({
      status,
      stoppedEarly: early,
      runDir: folder.dir,
      epochsCompleted,
      bestEpoch: progress.bestEpoch,
      bestFitness: progress.bestFitness,
      metrics: lastMetrics,
      bestMetrics,
      lastCheckpoint: folder.lastCheckpoint,
      bestCheckpoint: folder.bestCheckpoint,
    });
    // Plots are a view of the run: drawn one after another beside training (the SVG takes ~2 ms here,
    // sharp's 30-80 ms PNG rendering runs off the JS thread), awaited before the run ends; a failure is
    // logged, never fails the run.
    const plotsDir = path.join(folder.dir, "plots");
    const drawPlots = (make: () => Plot[] | Promise<Plot[]>, stage: LogStage, epoch: number) => {
      plotting = plotting.then(async () => {
        try {
          await writePlots(plotsDir, await make());
        } catch (error) {
          // Never rejects: a failing event hook fails the loop's own next event instead.
          await log(`Could not write plots to ${plotsDir}: ${(error as Error).message}`, stage, "warn", epoch).catch(() => undefined);
        }
      });
    };
    // results.png is redrawn at most every RESULTS_PLOT_INTERVAL_MS (short epochs would otherwise spend a
    // tenth of their time on it), and always for the last epoch trained.
    let resultsPlotted = { epoch: 0, at: -Infinity };
    const drawResultsPlot = (epoch: number, force = false) => {
      if (epoch <= resultsPlotted.epoch || (!force && performance.now() - resultsPlotted.at < RESULTS_PLOT_INTERVAL_MS)) return;
      resultsPlotted = { epoch, at: performance.now() };
      // From the file, so a resumed run's plot also shows the epochs before the resume.
      drawPlots(async () => [resultsPlot(parseResultsCsv(await readFile(folder.resultsFile, "utf8")))], "epoch_end", epoch);
    };
    // The best validation's closing lines, when that validation ran in this process (not before a resume).
    let bestSummary: string[] | undefined;
    const steps = trainLoader.length;
    const validating = config.val && valLoader !== undefined && valLoader.count > 0;

    for (let epoch = progress.epoch; epoch <= config.epochs; epoch++) {
      const resumingMidEpoch = epoch === progress.epoch && progress.step > 0;
      const running: Record<string, number> = resumingMidEpoch ? { ...progress.running } : {};
      let trainSeconds = resumingMidEpoch ? progress.trainSeconds : 0;
      let step = 0;
      let lr = learningRateAt(schedule, epoch, 0);
      await emit({ type: "epoch_start", epoch, epochs: config.epochs });
      await log(`Epoch [${epoch}/${config.epochs}] started`, "epoch_start", "info", epoch);

      const interrupted = async (request: TrainControl): Promise<TrainResult> => {
        const state: TrainProgress = { ...progress, epoch, step, running, trainSeconds };
        await save(folder.lastCheckpoint, state, lastMetrics);
        const type = request === "pause" ? "paused" : "stopped";
        await emit({ type, epoch, step, runDir: folder.dir });
        await log(`Training ${type} at epoch ${epoch} step ${step}/${steps}; resume continues from ${folder.lastCheckpoint}`, "stopped", "info", epoch);
        drawResultsPlot(epoch - 1, true);
        return resultOf(type, false, epoch - 1);
      };
      const toSkip = resumingMidEpoch ? progress.step : 0;
      for await (const batch of trainLoader.epoch(epoch)) {
        if (step < toSkip) {
          step++;
          continue;
        }
        const request = ctx.control?.() ?? "continue";
        if (request !== "continue") return await interrupted(request);
        lr = learningRateAt(schedule, epoch, step);
        const started = performance.now();
        const scalars = await stepper.step(batch, lr);
        trainSeconds += (performance.now() - started) / 1000;
        running.seen = (running.seen ?? 0) + batch.size;
        for (const [name, value] of Object.entries(scalars)) running[name] = (running[name] ?? 0) + value * batch.size;
        step++;
        if (step % config.log_every === 0 || step === steps) {
          await emit({
            type: "step",
            epoch,
            epochs: config.epochs,
            step,
            steps,
            loss: running.loss / running.seen,
            lr,
            imgsPerSec: running.seen / Math.max(trainSeconds, 1e-9),
          });
        }
      }
      if (!running.seen) throw new TrainError(`epoch ${epoch} had no training batches`);

      const metrics: Record<string, number> = {};
      for (const [name, sum] of Object.entries(running)) if (name !== "seen") metrics[`train_${name}`] = sum / running.seen;
      for (const line of adapter.logLines("train", metrics)) await log(line, "training", "info", epoch);

      const validationStarted = performance.now();
      let isBest = true;
      let bestValidation: ValidationResult | undefined;
      if (validating) {
        stepper.sync();
        const validation = await adapter.validate(model, valLoader!);
        Object.assign(metrics, validation.metrics);
        await emit({ type: "validation", epoch, metrics: validation.metrics, details: validation.details });
        for (const line of adapter.logLines("validation", validation.metrics)) await log(line, "validation", "info", epoch);
        const fitness = adapter.fitness(validation.metrics);
        isBest = progress.bestFitness === null || fitness > progress.bestFitness;
        if (isBest) {
          progress = { ...progress, bestFitness: fitness, bestEpoch: epoch };
          bestValidation = validation;
        }
      } else {
        progress = { ...progress, bestEpoch: epoch };
      }
      const validationSeconds = (performance.now() - validationStarted) / 1000;
      if (bestValidation) {
        drawPlots(() => validationPlots(config.task, classNames, bestValidation), "validation", epoch);
        bestSummary = bestValidation.summary;
      }
      const seconds = trainSeconds + validationSeconds;
      metrics.learning_rate = lr;
      if (progress.bestFitness !== null) metrics[adapter.bestMetricName] = progress.bestFitness;
      metrics.epoch_seconds = seconds;
      metrics.images_per_sec = running.seen / Math.max(trainSeconds, 1e-9);
      lastMetrics = metrics;
      if (isBest) bestMetrics = metrics;

      const next: TrainProgress = { ...progress, epoch: epoch + 1, step: 0, running: {}, trainSeconds: 0 };
      await save(folder.lastCheckpoint, next, metrics);
      if (isBest) {
        await save(folder.bestCheckpoint, next, metrics);
        for (const line of adapter.logLines("best", metrics)) await log(line, "epoch_end", "info", epoch);
      }
      if (config.save_period > 0 && epoch % config.save_period === 0) await save(epochCheckpoint(folder, epoch), next, metrics);
      await results.append({
        epoch,
        ...Object.fromEntries(adapter.resultsColumns.map(([key, column]) => [column, metrics[key]])),
        "lr/pg0": lr,
        time: seconds,
      });
      drawResultsPlot(epoch);
      progress = next;
      await emit({ type: "epoch_end", epoch, epochs: config.epochs, metrics, isBest, seconds });

      if (validating && epoch - progress.bestEpoch >= config.patience && epoch < config.epochs) {
        stoppedEarly = true;
        await log(
          `Stopping training early as no improvement observed in last ${config.patience} epochs. Best results observed at epoch ${progress.bestEpoch}, best model saved as ${folder.bestCheckpoint}.`,
          "epoch_end",
          "info",
          epoch,
        );
        break;
      }
    }

    drawResultsPlot(progress.epoch - 1, true);
    await plotting;
    const epochsCompleted = progress.epoch - 1;
    await emit({
      type: "completed",
      epochs: epochsCompleted,
      bestEpoch: progress.bestEpoch,
      bestFitness: progress.bestFitness,
      stoppedEarly,
      runDir: folder.dir,
      metrics: lastMetrics,
    });
    if (bestSummary) {
      await log(`Validation of the best epoch (${progress.bestEpoch}):`, "completed");
      for (const line of bestSummary) await log(line, "completed");
    }
    await log(`Training completed: ${epochsCompleted} epochs, best epoch ${progress.bestEpoch}; results saved to ${folder.dir}`, "completed");
    return resultOf("completed", stoppedEarly, epochsCompleted);
  } finally {
    // Stop, pause and errors leave here too: no plot is still being written once train() returns.
    await plotting;
    await stepper?.close();
    optimizer.dispose();
  }
}
