// A Conv2D layer that runs the plain conv2d op when it has neither bias nor activation (every conv
// that a BatchNorm follows). TF.js layers always call fused.conv2d, whose gradient computes dx and dW
// together; the plain op's gradient computes each only when needed, so the first conv of a model no
// longer computes a gradient for the image (~4% of a YOLOv8n training step on WASM).
// Dilated convolutions run over the kernel with zeros inserted between its taps: the same output, and
// TF.js has gradients for that (it has none for conv2d with dilation rates > 1).
import * as tf from "@tensorflow/tfjs";

type Kwargs = Record<string, unknown>;
type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];

/** The private state of TF.js's Conv2D layer that its call uses. */
interface ConvState {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor };
  strides: [number, number];
  padding: "same" | "valid" | "causal";
  dataFormat: "channelsFirst" | "channelsLast";
  dilationRate: [number, number];
}

// Subclassing the class TF.js itself uses keeps the weights and the serialised class "Conv2D" as they were.
const TfConv2D = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as new (args: Conv2DArgs) => tf.layers.Layer;

class Conv2D extends TfConv2D {
  static className = "Conv2D";

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as ConvState;
    const own = state.dataFormat === "channelsLast" && state.padding !== "causal";
    const dilated = state.dilationRate.some((rate) => rate > 1);
    const plain = state.bias === null && state.activation.getClassName() === "linear";
    if (!own || (!plain && !dilated)) return super.call(inputs, kwargs);
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const padding = state.padding as "same" | "valid";
    return tf.tidy(() => {
      const kernel = state.kernel.read() as tf.Tensor4D;
      if (!dilated) return tf.conv2d(x, kernel, state.strides, padding, "NHWC", state.dilationRate);
      const y = tf.conv2d(x, zeroDilated(kernel, state.dilationRate), state.strides, padding, "NHWC", 1);
      return state.activation.apply(state.bias ? tf.add(y, state.bias.read()) : y);
    });
  }
}

/** [kh, kw, I, O] → [(kh−1)·dh+1, (kw−1)·dw+1, I, O] with dh−1 / dw−1 zeros between taps, in 2-D pads (every backend has them). */
export function zeroDilated(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, i, o] = kernel.shape;
  let k: tf.Tensor4D = kernel;
  if (dh > 1) {
    const rows = tf.pad(tf.reshape(k, [kh, kw * i * o]), [[0, 0], [0, (dh - 1) * kw * i * o]]);
    k = tf.slice(tf.reshape<tf.Rank.R4>(rows, [kh * dh, kw, i, o]), [0, 0, 0, 0], [(kh - 1) * dh + 1, kw, i, o]);
  }
  if (dw > 1) {
    const h = k.shape[0];
    const columns = tf.pad(tf.reshape(k, [h * kw, i * o]), [[0, 0], [0, (dw - 1) * i * o]]);
    k = tf.slice(tf.reshape<tf.Rank.R4>(columns, [h, kw * dw, i, o]), [0, 0, 0, 0], [h, (kw - 1) * dw + 1, i, o]);
  }
  return k;
}

// Models rebuilt from JSON (worker-thread replicas, checkpoints) get this class too, so every copy of a
// model trains with the same arithmetic.
tf.serialization.registerClass(Conv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);

/** tf.layers.conv2d that differentiates only what is needed when it has no bias and no activation, and trains dilated. */
export function conv2d(args: Conv2DArgs): tf.layers.Layer {
  return new Conv2D(args);
}
