// One epoch's training steps: the control poll between steps, mid-epoch resume (the interrupted
// epoch's data order replayed, its trained batches skipped), step events, and the epoch's train_ metrics.
import type { TrainProgress } from "../checkpoint";
import { TrainError, type TrainControl, type TrainResult } from "../events";
import { learningRateAt } from "../schedule";
import { resultOf, type Run } from "./run";

export interface TrainedEpoch {
  /** Sums over the epoch's images (`seen` counts them). */
  running: Record<string, number>;
  trainSeconds: number;
  /** The learning rate of the epoch's last step. */
  lr: number;
  /** train_<name> means of the step scalars. */
  metrics: Record<string, number>;
}

/** Trains `epoch`; a stop or pause request ends the run instead, answered as its result. */
export async function trainEpoch(run: Run, epoch: number): Promise<TrainedEpoch | { interrupted: TrainResult }> {
  const { config, prepared, adapter, stepper, schedule, progress, emit, log } = run;
  const { trainLoader } = prepared;
  const steps = trainLoader.length;
  const resumingMidEpoch = epoch === progress.epoch && progress.step > 0;
  const running: Record<string, number> = resumingMidEpoch ? { ...progress.running } : {};
  let trainSeconds = resumingMidEpoch ? progress.trainSeconds : 0;
  let step = 0;
  let lr = learningRateAt(schedule, epoch, 0);
  await emit({ type: "epoch_start", epoch, epochs: config.epochs });
  await log(`Epoch [${epoch}/${config.epochs}] started`, "epoch_start", "info", epoch);

  const toSkip = resumingMidEpoch ? progress.step : 0;
  for await (const batch of trainLoader.epoch(epoch)) {
    if (step < toSkip) {
      step++;
      continue;
    }
    const request = run.control?.() ?? "continue";
    if (request !== "continue") return { interrupted: await interrupt(run, request, { ...progress, epoch, step, running, trainSeconds }) };
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
  return { running, trainSeconds, lr, metrics };
}

/** Stop or pause: weights/last keeps the position inside the epoch, so resume continues from it. */
async function interrupt(run: Run, request: Exclude<TrainControl, "continue">, state: TrainProgress): Promise<TrainResult> {
  const { folder } = run;
  const { epoch, step } = state;
  await run.save(folder.lastCheckpoint, state, run.lastMetrics);
  const type = request === "pause" ? "paused" : "stopped";
  await run.emit({ type, epoch, step, runDir: folder.dir });
  await run.log(`Training ${type} at epoch ${epoch} step ${step}/${run.prepared.trainLoader.length}; resume continues from ${folder.lastCheckpoint}`, "stopped", "info", epoch);
  run.plots.drawResults(epoch - 1, true);
  return resultOf(run, type, false, epoch - 1);
}
