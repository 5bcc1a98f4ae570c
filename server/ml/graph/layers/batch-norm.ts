// Batch normalisation whose training step is one custom-gradient op. TF.js's own (moments, then
// batchNorm, each differentiated op by op) runs ~20 full-size kernels per layer in the backward pass
// and keeps as many full-size tensors alive; this keeps x̂ and runs 5 in each direction.
import * as tf from "@tensorflow/tfjs";

export interface BatchStatistics {
  /** Per-channel batch mean and (biased) variance, as tf.moments gives them. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * y = γ·x̂ + β with x̂ = (x − mean)/√(variance + ε), statistics over every axis but the last.
 * Backward is the textbook batch-norm gradient (statistics differentiated), with M values per channel:
 * dβ = Σdy, dγ = Σdy·x̂, dx = s·dy − x̂·(s·dγ/M) − s·dβ/M where s = γ/√(variance + ε).
 * Also returns the statistics (caller disposes them) for the moving averages.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): { y: tf.Tensor } & BatchStatistics {
  const axes = x.shape.slice(0, -1).map((_, axis) => axis);
  const count = x.size / x.shape[x.rank - 1];
  let statistics: BatchStatistics | undefined;
  const normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    // tf.sum over leading axes is one fast pass on our backends; tf.mean is not.
    const mean = tf.div<tf.Tensor1D>(tf.sum(x, axes), count);
    const centered = tf.sub(x, mean);
    const variance = tf.div<tf.Tensor1D>(tf.sum(tf.square(centered), axes), count);
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalized = tf.mul(centered, inverseStd);
    save([normalized, inverseStd, gamma]);
    statistics = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return {
      value: tf.add(tf.mul(normalized, gamma), beta),
      gradFunc: (dy: tf.Tensor, [xHat, savedInverseStd, savedGamma]: tf.Tensor[]) => {
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, xHat), axes);
        const s = tf.mul(savedGamma, savedInverseStd);
        const perValue = tf.div(tf.mul(s, dGamma), count);
        const perChannel = tf.div(tf.mul(s, dBeta), count);
        const dx = tf.sub(tf.mul(dy, s), tf.add(tf.mul(xHat, perValue), perChannel));
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = normalize(x, gamma, beta);
  return { y, ...statistics! };
}

type Kwargs = Record<string, unknown>;
type BatchNormalizationArgs = Parameters<typeof tf.layers.batchNormalization>[0];

/** The private state of TF.js's BatchNormalization layer that its training step uses. */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

// Subclassing the class TF.js itself uses keeps weights (names, order, initialisers), the inference
// path and the serialised class name "BatchNormalization" exactly as they were.
const TfBatchNormalization = tf.layers.batchNormalization({}).constructor as new (args: BatchNormalizationArgs) => tf.layers.Layer;

class BatchNormalization extends TfBatchNormalization {
  static className = "BatchNormalization";

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as BatchNormState;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = state.axis === -1 || state.axis === x.rank - 1;
    if (!kwargs.training || !lastAxis || !state.gamma || !state.beta) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, state.gamma!.read() as tf.Tensor1D, state.beta!.read() as tf.Tensor1D, state.epsilon);
      // PyTorch's running_var follows the unbiased batch variance (n/(n − 1), n values per channel), TF.js's the biased one.
      const count = x.size / x.shape[x.rank - 1];
      const unbiased = tf.mul(variance, count > 1 ? count / (count - 1) : 1);
      // TF.js's update: moving ← moving − (moving − batch)·(1 − momentum).
      for (const [variable, value] of [
        [state.movingMean, mean],
        [state.movingVariance, unbiased],
      ] as const) {
        tf.tidy(() => {
          const current = variable.read();
          variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - state.momentum)));
        });
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

// Models rebuilt from JSON (worker-thread replicas, checkpoints) get this class too, so every copy of a
// model trains with the same arithmetic.
tf.serialization.registerClass(BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);

/** tf.layers.batchNormalization with a faster training step (batchNormTraining) and PyTorch's running variance. */
export function batchNormalization(args: BatchNormalizationArgs): tf.layers.Layer {
  return new BatchNormalization(args);
}
