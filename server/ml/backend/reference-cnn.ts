// The reference CNN of MEASUREMENTS.md, used to benchmark and test the training backends:
// conv3x3·16 → maxpool2 → conv3x3·32 → maxpool2 → conv3x3·64 → global average pool → dense (logits).
import * as tf from "@tensorflow/tfjs";


export function buildReferenceCnn(opts: { imgsz: number; numClasses: number; seed: number }): tf.LayersModel {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: opts.seed + offset });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [opts.imgsz, opts.imgsz, 3], filters: 16, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(3) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: opts.numClasses, kernelInitializer: init(4) }),
    ],
  });
}
