/**
 * Learning-rate schedule like Ultralytics: per epoch, linear (or cosine with cos_lr) from lr0 down
 * towards lr0·lrf; during warm-up a per-step linear ramp up to the epoch's rate. A pure function
 * of (epoch, step) so a resumed run continues on exactly the same curve.
 */
export interface ScheduleOptions {
  lr0: number;
  lrf: number;
  epochs: number;
  cosLr: boolean;
  warmupEpochs: number;
  stepsPerEpoch: number;
}

/** Epoch factor (epoch is 1-based): 1 for the first epoch, approaching lrf after the last. */
export function epochFactor(options: Pick<ScheduleOptions, "lrf" | "epochs" | "cosLr">, epoch: number): number {
  const progress = (epoch - 1) / options.epochs;
  if (options.cosLr) return ((1 - Math.cos(progress * Math.PI)) / 2) * (options.lrf - 1) + 1;
  return (1 - progress) * (1 - options.lrf) + options.lrf;
}

export function warmupSteps(options: Pick<ScheduleOptions, "warmupEpochs" | "stepsPerEpoch">): number {
  return Math.round(options.warmupEpochs * options.stepsPerEpoch);
}

/**
 * Learning rate for a step (epoch 1-based, step 0-based within the epoch). Warm-up step i of W
 * uses (i+1)/(W+1) of the epoch's rate, so the first step already learns and step W is at full rate.
 */
export function learningRateAt(options: ScheduleOptions, epoch: number, step: number): number {
  const base = options.lr0 * epochFactor(options, epoch);
  const globalStep = (epoch - 1) * options.stepsPerEpoch + step;
  const warmup = warmupSteps(options);
  if (globalStep < warmup) return (base * (globalStep + 1)) / (warmup + 1);
  return base;
}
