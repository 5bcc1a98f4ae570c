import * as tf from "@tensorflow/tfjs";

interface ChannelSliceConfig {
  start: number;
  end: number;
  name?: string;
}

/**
 * Channels [start, end) of the last axis. TF.js has no slicing layer; YOLO's C2f splits its
 * features in two with it. Registered for serialisation so saved models load again.
 */
export class ChannelSlice extends tf.layers.Layer {
  static className = "ChannelSlice";
  private readonly start: number;
  private readonly end: number;

  constructor(config: ChannelSliceConfig) {
    super({ name: config.name });
    this.start = config.start;
    this.end = config.end;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.end - this.start];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const begin = x.shape.map((_, axis) => (axis === x.rank - 1 ? this.start : 0));
      const size = x.shape.map((_, axis) => (axis === x.rank - 1 ? this.end - this.start : -1));
      return tf.slice(x, begin, size);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), start: this.start, end: this.end };
  }
}

tf.serialization.registerClass(ChannelSlice);
