import path from "node:path";
import { initBackend } from "../backend/index";
import { createTaskAdapter, type PreparedTask, type TaskAdapter } from "./adapter";
import { disposeContents, readCheckpoint, type CheckpointContents } from "./checkpoint";
import { resolveAutoBatch } from "./autobatch";
import { AUTO_BATCH, parseTrainConfig, type TrainConfigInput } from "./config";
import { TrainError, type LogStage, type TrainEvent, type TrainHooks, type TrainResult } from "./events";
import { checkpointEpoch } from "./phases/checkpoint";
import { stopsEarly } from "./phases/early-stop";
import { trainEpoch } from "./phases/epoch";
import { resultOf, type RunContext } from "./phases/run";
import { announceStart, closeRun, setUpRun } from "./phases/setup";
import { validateEpoch } from "./phases/validation";
import { createRunFolder, openRunFolder, type RunFolder } from "./run-folder";
import "./classify";
import "../detect/adapter";

export { TrainError, type LogStage, type TrainControl, type TrainEvent, type TrainHooks, type TrainResult } from "./events";

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
    if (config.batch === AUTO_BATCH) config = await resolveAutoBatch(config, { adapter, backend, expect, log: (message) => pendingLogs.push({ message, level: "info" }) });
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

/** The phases in order: setup, then per epoch training, validation, checkpoint and the early-stop test, then completion. */
async function runTraining(ctx: RunContext): Promise<TrainResult> {
  const { run, backend, workers, microBatch } = await setUpRun(ctx);
  try {
    await announceStart(run, backend, workers, microBatch);
    let stoppedEarly = false;
    for (let epoch = run.progress.epoch; epoch <= run.config.epochs; epoch++) {
      const trained = await trainEpoch(run, epoch);
      if ("interrupted" in trained) return trained.interrupted;
      const validation = await validateEpoch(run, epoch, trained.metrics);
      await checkpointEpoch(run, epoch, trained, validation);
      if (await stopsEarly(run, epoch)) {
        stoppedEarly = true;
        break;
      }
    }

    const { progress, folder, log } = run;
    run.plots.drawResults(progress.epoch - 1, true);
    await run.plots.settled();
    const epochsCompleted = progress.epoch - 1;
    await run.emit({
      type: "completed",
      epochs: epochsCompleted,
      bestEpoch: progress.bestEpoch,
      bestFitness: progress.bestFitness,
      stoppedEarly,
      runDir: folder.dir,
      metrics: run.lastMetrics,
    });
    if (run.bestSummary) {
      await log(`Validation of the best epoch (${progress.bestEpoch}):`, "completed");
      for (const line of run.bestSummary) await log(line, "completed");
    }
    await log(`Training completed: ${epochsCompleted} epochs, best epoch ${progress.bestEpoch}; results saved to ${folder.dir}`, "completed");
    return resultOf(run, "completed", stoppedEarly, epochsCompleted);
  } finally {
    // Stop, pause and errors leave here too.
    await closeRun(run);
  }
}
