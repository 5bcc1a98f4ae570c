// Validation after an epoch: metrics and their event, fitness against the best so far, and the best
// validation's plots.
import type { ValidationResult } from "../adapter";
import { validationPlots } from "../plots";
import type { Run } from "./run";

export interface EpochValidation {
  isBest: boolean;
  seconds: number;
}

/** Validates into `metrics` (when the run validates) and moves run.progress's best epoch. Without validation every epoch is the best. */
export async function validateEpoch(run: Run, epoch: number, metrics: Record<string, number>): Promise<EpochValidation> {
  const { config, adapter, prepared, emit, log } = run;
  const started = performance.now();
  let isBest = true;
  let bestValidation: ValidationResult | undefined;
  if (run.validating) {
    run.stepper.sync();
    const validation = await adapter.validate(prepared.model, prepared.valLoader!, run.stepper.forward);
    Object.assign(metrics, validation.metrics);
    await emit({ type: "validation", epoch, metrics: validation.metrics, details: validation.details });
    for (const line of adapter.logLines("validation", validation.metrics)) await log(line, "validation", "info", epoch);
    const fitness = adapter.fitness(validation.metrics);
    isBest = run.progress.bestFitness === null || fitness > run.progress.bestFitness;
    if (isBest) {
      run.progress = { ...run.progress, bestFitness: fitness, bestEpoch: epoch };
      bestValidation = validation;
    }
  } else {
    run.progress = { ...run.progress, bestEpoch: epoch };
  }
  const seconds = (performance.now() - started) / 1000;
  if (bestValidation) {
    const best = bestValidation;
    run.plots.draw(() => validationPlots(config.task, prepared.classNames, best), "validation", epoch);
    run.bestSummary = best.summary;
  }
  return { isBest, seconds };
}
