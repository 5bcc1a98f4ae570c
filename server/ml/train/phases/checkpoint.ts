// The end of an epoch: its closing metrics, weights/last (and best, and the save_period copy) positioned
// at the next epoch, its results.csv row and plot, and the epoch_end event.
import type { TrainProgress } from "../checkpoint";
import { epochCheckpoint } from "../run-folder";
import type { TrainedEpoch } from "./epoch";
import type { Run } from "./run";
import type { EpochValidation } from "./validation";

export async function checkpointEpoch(run: Run, epoch: number, trained: TrainedEpoch, validation: EpochValidation): Promise<void> {
  const { config, folder, adapter, log } = run;
  const { metrics, running, trainSeconds, lr } = trained;
  const { isBest } = validation;
  const seconds = trainSeconds + validation.seconds;
  metrics.learning_rate = lr;
  if (run.progress.bestFitness !== null) metrics[adapter.bestMetricName] = run.progress.bestFitness;
  metrics.epoch_seconds = seconds;
  metrics.images_per_sec = running.seen / Math.max(trainSeconds, 1e-9);
  run.lastMetrics = metrics;
  if (isBest) run.bestMetrics = metrics;

  const next: TrainProgress = { ...run.progress, epoch: epoch + 1, step: 0, running: {}, trainSeconds: 0 };
  await run.save(folder.lastCheckpoint, next, metrics);
  if (isBest) {
    await run.save(folder.bestCheckpoint, next, metrics);
    for (const line of adapter.logLines("best", metrics)) await log(line, "epoch_end", "info", epoch);
  }
  if (config.save_period > 0 && epoch % config.save_period === 0) await run.save(epochCheckpoint(folder, epoch), next, metrics);
  await run.results.append({
    epoch,
    ...Object.fromEntries(adapter.resultsColumns.map(([key, column]) => [column, metrics[key]])),
    "lr/pg0": lr,
    time: seconds,
  });
  run.plots.drawResults(epoch);
  run.progress = next;
  await run.emit({ type: "epoch_end", epoch, epochs: config.epochs, metrics, isBest, seconds });
}
