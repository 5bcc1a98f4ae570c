// A DepthwiseConv2D layer that honours its dilation rate. TF.js's own layer passes no dilation to the op
// and computes its output shape without it ("TODO(cais): Add support for dilation"), and TF.js has no
// gradient for depthwise convolutions with dilation rates > 1; so a dilated layer runs over the kernel
// with zeros inserted between its taps, which gives the same output and trains.
import * as tf from "@tensorflow/tfjs";
import { zeroDilated } from "./plain-conv";

type Kwargs = Record<string, unknown>;
type DepthwiseConv2DArgs = Parameters<typeof tf.layers.depthwiseConv2d>[0];

/** The private state of TF.js's DepthwiseConv2D layer that its call uses. */
interface DepthwiseState {
  depthwiseKernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { apply(x: tf.Tensor): tf.Tensor };
  kernelSize: [number, number];
  depthMultiplier: number;
  strides: [number, number];
  padding: "same" | "valid" | "causal";
  dataFormat: "channelsFirst" | "channelsLast";
  dilationRate: [number, number];
}

// Subclassing the class TF.js itself uses keeps the weights and the serialised class "DepthwiseConv2D" as they were.
const TfDepthwiseConv2D = tf.layers.depthwiseConv2d({ kernelSize: 1 }).constructor as new (args: DepthwiseConv2DArgs) => tf.layers.Layer;

class DepthwiseConv2D extends TfDepthwiseConv2D {
  static className = "DepthwiseConv2D";

  private dilatedChannelsLast(): boolean {
    const state = this as unknown as DepthwiseState;
    return state.dataFormat === "channelsLast" && state.padding !== "causal" && state.dilationRate.some((rate) => rate > 1);
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    if (!this.dilatedChannelsLast()) return super.call(inputs, kwargs);
    const state = this as unknown as DepthwiseState;
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const kernel = zeroDilated(state.depthwiseKernel.read() as tf.Tensor4D, state.dilationRate);
      const y = tf.depthwiseConv2d(x, kernel, state.strides, state.padding as "same" | "valid", "NHWC", 1);
      const biased = state.bias ? tf.add(y, state.bias.read()) : y;
      return state.activation.apply(biased);
    });
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    if (!this.dilatedChannelsLast()) return super.computeOutputShape(inputShape);
    const state = this as unknown as DepthwiseState;
    const [batch, rows, cols, channels] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const length = (size: number | null, axis: 0 | 1) => {
      if (size === null) return null;
      const span = (state.kernelSize[axis] - 1) * state.dilationRate[axis] + 1;
      return Math.ceil((state.padding === "same" ? size : size - span + 1) / state.strides[axis]);
    };
    return [batch, length(rows, 0), length(cols, 1), channels === null ? null : channels * state.depthMultiplier];
  }
}

// Models rebuilt from JSON (worker-thread replicas, checkpoints) get this class too, so every copy of a
// model computes the same function.
tf.serialization.registerClass(DepthwiseConv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);

/** tf.layers.depthwiseConv2d that applies its dilation rate, in the forward pass and in training. */
export function depthwiseConv2d(args: DepthwiseConv2DArgs): tf.layers.Layer {
  return new DepthwiseConv2D(args);
}
