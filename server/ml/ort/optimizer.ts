// The engine's optimizers (train/optimizers.ts: PyTorch semantics, Ultralytics' momentum as Adam's
// β1, coupled L2 except AdamW, decay on kernels only) as tight loops over Float32Arrays, with the
// same state layout (slots `<weight key>/<slot>`, a step count) so checkpoints move between engines.
import type { OptimizerSettings } from "../train/optimizers";

const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
const RMSPROP_ALPHA = 0.99;
const RMSPROP_EPSILON = 1e-8;

export const SLOT_NAMES: Record<OptimizerSettings["name"], string[]> = {
  SGD: ["momentum"],
  Adam: ["m", "v"],
  AdamW: ["m", "v"],
  RMSProp: ["square_avg", "momentum"],
};

export interface FlatParam {
  key: string;
  values: Float32Array;
  /** Weight decay applies (kernels, not biases or normalisation parameters). */
  decay: boolean;
}

export class FlatOptimizer {
  private stepCount = 0;
  private readonly slots = new Map<string, Float32Array>();

  constructor(readonly settings: OptimizerSettings) {}

  get step(): number {
    return this.stepCount;
  }

  /**
   * One update of every param from its gradient (same order as `params`), each gradient first
   * multiplied by `gradScale` (global-norm clipping, folded into the same pass).
   */
  apply(params: FlatParam[], grads: Float32Array[], lr: number, gradScale = 1): void {
    this.stepCount += 1;
    const { name, momentum, nesterov, weightDecay } = this.settings;
    const t = this.stepCount;
    for (let p = 0; p < params.length; p++) {
      const { key, values: w, decay } = params[p];
      const g = grads[p];
      const wd = decay ? weightDecay : 0;
      const coupled = name === "AdamW" ? 0 : wd;
      const n = w.length;
      if (name === "SGD") {
        const buf = this.slot(key, "momentum", n);
        for (let i = 0; i < n; i++) {
          const gi = g[i] * gradScale + coupled * w[i];
          const b = (buf[i] = buf[i] * momentum + gi);
          w[i] -= lr * (nesterov ? gi + b * momentum : b);
        }
      } else if (name === "Adam" || name === "AdamW") {
        const m = this.slot(key, "m", n);
        const v = this.slot(key, "v", n);
        const b1 = momentum;
        const c1 = 1 - b1;
        const c2 = 1 - ADAM_BETA2;
        // lr·m̂/(√v̂ + ε) with the bias corrections hoisted: (lr/bc1)·m / (√v/√bc2 + ε), one division per value.
        const stepSize = lr / (1 - b1 ** t);
        const invSqrtBc2 = 1 / Math.sqrt(1 - ADAM_BETA2 ** t);
        const shrink = name === "AdamW" && wd > 0 ? 1 - lr * wd : 1;
        for (let i = 0; i < n; i++) {
          const wi = w[i];
          const gi = g[i] * gradScale + coupled * wi;
          const mi = m[i] * b1 + gi * c1;
          const vi = v[i] * ADAM_BETA2 + gi * gi * c2;
          m[i] = mi;
          v[i] = vi;
          w[i] = wi * shrink - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + ADAM_EPSILON);
        }
      } else {
        const square = this.slot(key, "square_avg", n);
        const buf = this.slot(key, "momentum", n);
        for (let i = 0; i < n; i++) {
          const gi = g[i] * gradScale + coupled * w[i];
          const s = (square[i] = square[i] * RMSPROP_ALPHA + gi * gi * (1 - RMSPROP_ALPHA));
          const b = (buf[i] = buf[i] * momentum + gi / (Math.sqrt(s) + RMSPROP_EPSILON));
          w[i] -= b * lr;
        }
      }
    }
  }

  /** Slots by `<key>/<slot>` (live arrays) and the step count. */
  getState(): { step: number; slots: Map<string, Float32Array> } {
    return { step: this.stepCount, slots: this.slots };
  }

  setState(step: number, slots: Iterable<[string, Float32Array]>): void {
    this.stepCount = step;
    for (const [name, values] of slots) this.slots.set(name, Float32Array.from(values));
  }

  private slot(key: string, slot: string, size: number): Float32Array {
    const name = `${key}/${slot}`;
    let values = this.slots.get(name);
    if (!values) {
      values = new Float32Array(size);
      this.slots.set(name, values);
    }
    return values;
  }
}

/** Σ g² over every gradient. */
export function squaredNorm(grads: Float32Array[]): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return sum;
}

/** The factor clipByGlobalNorm scales gradients by: min(1, maxNorm / (‖g‖ + 1e-6)); 1 when maxNorm ≤ 0 (off). */
export function clipScale(squared: number, maxNorm: number): number {
  return maxNorm > 0 ? Math.min(1, maxNorm / (Math.sqrt(squared) + 1e-6)) : 1;
}
