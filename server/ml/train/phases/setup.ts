// Setup: weights (resumed or pretrained), optimizer and its choice, the stepper on the chosen backend,
// args.json and results.csv, then the start event and the lines that describe the run.
import type * as tf from "@tensorflow/tfjs";
import { withDataParallelThreads, type BackendInfo } from "../../backend/index";
import { assertSameClasses } from "../adapter";
import { assignWeights, CheckpointError, saveCheckpoint, type TrainProgress } from "../checkpoint";
import { effectiveWarmupEpochs, resolveOptimizer, type ResolvedOptimizer } from "../config";
import { TrainOptimizer, type TrainableVariable } from "../optimizers";
import { loadPretrained } from "../pretrained";
import { ResultsCsv, writeArgs } from "../run-folder";
import { createTrainStepper, planRounds, resolveMicroBatch, resolveTrainingBackend, resolveWorkers, type TrainStepper } from "../stepper";
import { RunPlots } from "./plots";
import type { Run, RunContext } from "./run";

/** Builds the run; on failure everything it created is released before the error leaves. */
export async function setUpRun(ctx: RunContext): Promise<{ run: Run; backend: BackendInfo; workers: number; microBatch: number }> {
  const { config, folder, resumeFrom, adapter, prepared } = ctx;
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
  try {
    if (resumeFrom?.optimizer) optimizer.setState(resumeFrom.optimizer, trainable);
    const { graph, inputShape } = prepared;
    const trainingBackend = resolveTrainingBackend(ctx.backend, { model, graph, inputShape, adapter, workers: config.workers, log: (message) => ctx.pendingLogs.push({ message, level: "warn" }) });
    const workers = resolveWorkers(config.workers, trainingBackend, adapter);
    const microBatch = resolveMicroBatch(config.micro_batch, config.batch, trainingBackend, model, adapter);
    const stepLog = (message: string) => ctx.pendingLogs.push({ message, level: "info" });
    stepper = await createTrainStepper({ model, adapter, optimizer, trainable, clipGrad: config.clip_grad, workers, microBatch, backend: trainingBackend, graph, inputShape, log: stepLog });
    const backend = workers > 1 ? withDataParallelThreads(trainingBackend, workers) : trainingBackend;
    const argsForFile = { ...config, data: typeof config.data === "string" ? config.data : config.data.root, optimizer_resolved: optimizerChoice, backend: backend.description };
    await writeArgs(folder, argsForFile);
    const columns = ["epoch", ...adapter.resultsColumns.map(([, column]) => column), "lr/pg0", "time"];
    const results = resumeFrom ? await ResultsCsv.resume(folder.resultsFile, columns, progress.epoch) : ResultsCsv.create(folder.resultsFile, columns);

    const checkpointBase = {
      model,
      task: config.task,
      classNames,
      inputShape: prepared.inputShape,
      graph: prepared.graph,
      seed: config.seed,
      config: { ...config } as Record<string, unknown>,
    };
    const lastMetrics = resumeFrom?.header.metrics ?? {};
    const built: TrainStepper<{ size: number }> = stepper;
    const run: Run = {
      ...ctx,
      optimizer,
      optimizerChoice,
      stepper: built,
      schedule: {
        lr0: optimizerChoice.lr0,
        lrf: config.lrf,
        epochs: config.epochs,
        cosLr: config.cos_lr,
        warmupEpochs: effectiveWarmupEpochs(config),
        stepsPerEpoch: trainLoader.length,
      },
      results,
      plots: new RunPlots(folder, ctx.log),
      validating: config.val && valLoader !== undefined && valLoader.count > 0,
      progress,
      lastMetrics,
      bestMetrics: lastMetrics,
      save(file, state, metrics) {
        built.sync();
        return saveCheckpoint(file, {
          ...checkpointBase,
          optimizer: { state: optimizer.getState(), lr0: optimizerChoice.lr0, momentum: optimizerChoice.momentum },
          progress: state,
          metrics,
        });
      },
    };
    return { run, backend, workers, microBatch };
  } catch (error) {
    await stepper?.close();
    optimizer.dispose();
    throw error;
  }
}

/** The start event, then the lines gathered while preparing and the device, batching and optimizer lines. */
export async function announceStart(run: Run, backend: BackendInfo, workers: number, microBatch: number): Promise<void> {
  const { config, folder, prepared, optimizerChoice, log } = run;
  await run.emit({
    type: "start",
    backend,
    runDir: folder.dir,
    task: config.task,
    epochs: config.epochs,
    startEpoch: run.progress.epoch,
    resumed: Boolean(run.resumeFrom),
    classNames: prepared.classNames,
    params: prepared.model.countParams(),
    optimizer: optimizerChoice,
    trainImages: prepared.trainLoader.count,
    valImages: prepared.valLoader?.count ?? 0,
  });
  for (const entry of run.pendingLogs) await log(entry.message, "start", entry.level);
  await log(`Device: ${backend.description}`, "start");
  const rounds = planRounds(config.batch, workers, microBatch).length;
  if (rounds > 1) await log(`Batch ${config.batch} in ${rounds} rounds of at most ${microBatch} image(s) per thread (micro_batch), gradients accumulated into one update`, "start");
  await log(`Optimizer: ${optimizerChoice.name}(lr0=${optimizerChoice.lr0}, momentum=${optimizerChoice.momentum}) — ${optimizerChoice.reason}`, "start");
}

/** Releases what setUpRun built, once every plot asked for is written: no plot is still being written once train() returns. */
export async function closeRun(run: Run): Promise<void> {
  await run.plots.settled();
  await run.stepper.close();
  run.optimizer.dispose();
}
