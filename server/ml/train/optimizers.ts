import * as tf from "@tensorflow/tfjs";
import type { OptimizerName } from "./config";

/**
 * Optimizers with PyTorch semantics (what Ultralytics users tune against), written on tf ops
 * rather than tf.train so that all four share one shape: the learning rate is passed per step
 * (schedules), weight decay skips biases and norm parameters, and the state is a flat list of
 * named tensors keyed by stable weight names for checkpoints.
 */

export interface TrainableVariable {
  /** Stable name (the layer weight's original name), used for optimizer state in checkpoints. */
  key: string;
  variable: tf.Variable;
  /** Weight decay applies to kernels only, not to biases and normalisation parameters. */
  decay: boolean;
}

export interface OptimizerSettings {
  name: OptimizerName;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface OptimizerState {
  name: OptimizerName;
  step: number;
  /** Slot tensors named `<weight key>/<slot>`. */
  slots: NamedTensor[];
}

export class OptimizerStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptimizerStateError";
  }
}

const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
const RMSPROP_ALPHA = 0.99;
const RMSPROP_EPSILON = 1e-8;

const slotNames: Record<OptimizerName, string[]> = {
  SGD: ["momentum"],
  Adam: ["m", "v"],
  AdamW: ["m", "v"],
  RMSProp: ["square_avg", "momentum"],
};

export class TrainOptimizer {
  private stepCount = 0;
  private readonly slots = new Map<string, tf.Variable>();

  constructor(readonly settings: OptimizerSettings) {}

  get name(): OptimizerName {
    return this.settings.name;
  }

  get step(): number {
    return this.stepCount;
  }

  /** Applies one update. `grads` is keyed by tf variable name (what tf.variableGrads returns). */
  apply(grads: tf.NamedTensorMap, variables: TrainableVariable[], lr: number): void {
    this.stepCount += 1;
    const { name, momentum, nesterov, weightDecay } = this.settings;
    const t = this.stepCount;
    tf.tidy(() => {
      for (const { key, variable, decay } of variables) {
        const raw = grads[variable.name];
        if (!raw) continue;
        const wd = decay ? weightDecay : 0;
        // Coupled L2 (PyTorch weight_decay) for all but AdamW, which decays the weight directly.
        const g = wd > 0 && name !== "AdamW" ? raw.add(variable.mul(wd)) : raw;
        if (name === "SGD") {
          const buf = this.slot(key, "momentum", variable);
          const newBuf = buf.mul(momentum).add(g);
          buf.assign(newBuf);
          const update = nesterov ? g.add(newBuf.mul(momentum)) : newBuf;
          variable.assign(variable.sub(update.mul(lr)));
        } else if (name === "Adam" || name === "AdamW") {
          // Ultralytics passes momentum as beta1.
          const m = this.slot(key, "m", variable);
          const v = this.slot(key, "v", variable);
          const newM = m.mul(momentum).add(g.mul(1 - momentum));
          const newV = v.mul(ADAM_BETA2).add(g.square().mul(1 - ADAM_BETA2));
          m.assign(newM);
          v.assign(newV);
          const mHat = newM.div(1 - momentum ** t);
          const vHat = newV.div(1 - ADAM_BETA2 ** t);
          const decayed = name === "AdamW" && wd > 0 ? variable.mul(1 - lr * wd) : variable;
          variable.assign(decayed.sub(mHat.div(vHat.sqrt().add(ADAM_EPSILON)).mul(lr)));
        } else {
          const squareAvg = this.slot(key, "square_avg", variable);
          const newSquareAvg = squareAvg.mul(RMSPROP_ALPHA).add(g.square().mul(1 - RMSPROP_ALPHA));
          squareAvg.assign(newSquareAvg);
          const scaled = g.div(newSquareAvg.sqrt().add(RMSPROP_EPSILON));
          const buf = this.slot(key, "momentum", variable);
          const newBuf = buf.mul(momentum).add(scaled);
          buf.assign(newBuf);
          variable.assign(variable.sub(newBuf.mul(lr)));
        }
      }
    });
  }

  getState(): OptimizerState {
    return {
      name: this.name,
      step: this.stepCount,
      slots: [...this.slots].map(([name, tensor]) => ({ name, tensor })),
    };
  }

  /** Restores state saved by getState; the caller may dispose its tensors afterwards. */
  setState(state: OptimizerState, variables: TrainableVariable[]): void {
    if (state.name !== this.name) {
      throw new OptimizerStateError(`optimizer state is for ${state.name} but the run uses ${this.name}`);
    }
    const shapes = new Map(variables.map((v) => [v.key, v.variable.shape]));
    const byName = new Map(state.slots.map((s) => [s.name, s.tensor]));
    for (const { key } of variables) {
      for (const slot of slotNames[this.name]) {
        const tensor = byName.get(`${key}/${slot}`);
        if (!tensor) continue;
        const expected = shapes.get(key)!;
        if (!tf.util.arraysEqual(tensor.shape, expected)) {
          throw new OptimizerStateError(`optimizer slot ${key}/${slot} has shape [${tensor.shape}] but the weight has [${expected}]`);
        }
        this.slots.get(`${key}/${slot}`)?.dispose();
        this.slots.set(`${key}/${slot}`, tf.variable(tensor, false));
      }
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
    this.slots.clear();
  }

  private slot(key: string, slot: string, like: tf.Variable): tf.Variable {
    const name = `${key}/${slot}`;
    let variable = this.slots.get(name);
    if (!variable) {
      variable = tf.keep(tf.variable(tf.zerosLike(like), false));
      this.slots.set(name, variable);
    }
    return variable;
  }
}

/**
 * Scales gradients so their global L2 norm is at most maxNorm (like torch clip_grad_norm_).
 * Returns new tensors (the caller disposes both maps) and the norm before clipping.
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  return tf.tidy(() => {
    const tensors = Object.values(grads);
    const norm = tf.addN(tensors.map((g) => g.square().sum())).sqrt() as tf.Scalar;
    const scale = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6)));
    const clipped: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) clipped[name] = g.mul(scale);
    return { grads: clipped, norm };
  });
}
