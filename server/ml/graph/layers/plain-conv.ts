// A Conv2D layer that runs the plain conv2d op when it has neither bias nor activation (every conv
// that a BatchNorm follows). TF.js layers always call fused.conv2d, whose gradient computes dx and dW
// together; the plain op's gradient computes each only when needed, so the first conv of a model no
// longer computes a gradient for the image (~4% of a YOLOv8n training step on WASM).
import * as tf from "@tensorflow/tfjs";

type Kwargs = Record<string, unknown>;
type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];

/** The private state of TF.js's Conv2D layer that its call uses. */
interface ConvState {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string };
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
    const plain = state.bias === null && state.activation.getClassName() === "linear" && state.dataFormat === "channelsLast" && state.padding !== "causal";
    if (!plain) return super.call(inputs, kwargs);
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => tf.conv2d(x, state.kernel.read() as tf.Tensor4D, state.strides, state.padding as "same" | "valid", "NHWC", state.dilationRate));
  }
}

// Models rebuilt from JSON (worker-thread replicas, checkpoints) get this class too, so every copy of a
// model trains with the same arithmetic.
tf.serialization.registerClass(Conv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);

/** tf.layers.conv2d that differentiates only what is needed when it has no bias and no activation. */
export function conv2d(args: Conv2DArgs): tf.layers.Layer {
  return new Conv2D(args);
}
