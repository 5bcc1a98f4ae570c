import * as tf from "@tensorflow/tfjs";

interface MaxPoolPaddingConfig {
  /** [[top, bottom], [left, right]] */
  padding: [[number, number], [number, number]];
  name?: string;
}

/**
 * Pads H and W with −∞, so that a 'valid' max pool after it never picks the padding: PyTorch's
 * MaxPool2d(padding=p). (Zeros would win over negative values.) The gradient of the pad is a
 * slice, so the pool's gradient reaches only real pixels. Registered for serialisation so saved
 * models load again.
 */
export class MaxPoolPadding2D extends tf.layers.Layer {
  static className = "MaxPoolPadding2D";
  private readonly padding: [[number, number], [number, number]];

  constructor(config: MaxPoolPaddingConfig) {
    super({ name: config.name });
    this.padding = config.padding;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const [[top, bottom], [left, right]] = this.padding;
    return [n, h === null ? null : h + top + bottom, w === null ? null : w + left + right, c];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      return tf.pad(x, [[0, 0], ...this.padding, [0, 0]], -Infinity);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding };
  }
}

tf.serialization.registerClass(MaxPoolPadding2D);
