import type { Run } from "./run";

/** Ultralytics' patience: stop once `patience` validated epochs passed without a better fitness (never after the last epoch). */
export async function stopsEarly(run: Run, epoch: number): Promise<boolean> {
  const { config, progress, folder } = run;
  if (!run.validating || epoch - progress.bestEpoch < config.patience || epoch >= config.epochs) return false;
  await run.log(
    `Stopping training early as no improvement observed in last ${config.patience} epochs. Best results observed at epoch ${progress.bestEpoch}, best model saved as ${folder.bestCheckpoint}.`,
    "epoch_end",
    "info",
    epoch,
  );
  return true;
}
