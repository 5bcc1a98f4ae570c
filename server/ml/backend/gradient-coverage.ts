// Which kernels does training the zoo's layer types need, and which of them does a backend lack?
// Found by running one training step of a small model that uses every such layer type on the
// reference CPU backend, recording the kernels it runs, and looking each up for the target backend.
import * as tf from "@tensorflow/tfjs";
import { MaxPoolPadding2D } from "../graph/layers/max-pool-padding";

/** Every layer/activation type the zoo models train with (ResNet, MobileNetV2, YOLOv8 blocks), padded as they pad. */
export function buildCoverageModel(imgsz = 16, numClasses = 3, seed = 7): tf.LayersModel {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed + offset });
  const input = tf.input({ shape: [imgsz, imgsz, 3] });
  // PyTorch's padding at stride 2 on an even size: a pad, then a 'valid' conv (graph/layers/common.ts tfWindowPadding).
  const padded = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]] }).apply(input) as tf.SymbolicTensor;
  const stem = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "valid", useBias: false, kernelInitializer: init(1) }).apply(padded) as tf.SymbolicTensor;
  const normed = tf.layers.batchNormalization({}).apply(stem) as tf.SymbolicTensor;
  const silu = tf.layers.activation({ activation: "swish" }).apply(normed) as tf.SymbolicTensor;
  const depthwise = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", activation: "relu6", depthwiseInitializer: init(2) }).apply(silu) as tf.SymbolicTensor;
  const pointwise = tf.layers.conv2d({ filters: 8, kernelSize: 1, activation: "relu", kernelInitializer: init(3) }).apply(depthwise) as tf.SymbolicTensor;
  const residual = tf.layers.add().apply([pointwise, silu]) as tf.SymbolicTensor;
  const leaky = tf.layers.leakyReLU({ alpha: 0.1 }).apply(residual) as tf.SymbolicTensor;
  const stemPooled = tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: "valid" }).apply(new MaxPoolPadding2D({ padding: [[1, 1], [1, 1]] }).apply(leaky)) as tf.SymbolicTensor;
  const maxPooled = tf.layers.maxPooling2d({ poolSize: 5, strides: 1, padding: "same" }).apply(stemPooled) as tf.SymbolicTensor;
  const avgPooled = tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }).apply(maxPooled) as tf.SymbolicTensor;
  const sigmoid = tf.layers.activation({ activation: "sigmoid" }).apply(avgPooled) as tf.SymbolicTensor;
  const upsampled = tf.layers.upSampling2d({ size: [2, 2] }).apply(sigmoid) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate({ axis: -1 }).apply([upsampled, leaky]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(joined) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: 0.1, seed }).apply(pooled) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: numClasses, kernelInitializer: init(4) }).apply(dropped) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}

/** One Adam step with softmax cross-entropy plus the raw ops detection losses use (split/slice/concat). */
export function coverageTrainingStep(model: tf.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor4D, labels: tf.Tensor2D): number {
  const loss = optimizer.minimize(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor2D;
    const [first, rest] = tf.split(logits, [1, logits.shape[1] - 1], 1);
    const rejoined = tf.concat([tf.sigmoid(first), rest], 1);
    const sliced = tf.slice(rejoined, [0, 0], [-1, 1]);
    return tf.add(tf.losses.softmaxCrossEntropy(labels, logits), tf.mul(0.01, tf.mean(sliced))) as tf.Scalar;
  }, true);
  const value = loss!.dataSync()[0];
  loss!.dispose();
  return value;
}

/** Kernels one coverage training step runs (forward, gradients, optimizer), found on the CPU backend. */
export async function kernelsUsedInTraining(): Promise<string[]> {
  const previous = tf.getBackend();
  await tf.setBackend("cpu");
  try {
    const model = buildCoverageModel();
    const optimizer = tf.train.adam(1e-3);
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([0, 2], "int32"), 3).toFloat() as tf.Tensor2D;
    const profile = await tf.profile(() => {
      coverageTrainingStep(model, optimizer, x, labels);
    });
    tf.dispose([x, labels]);
    optimizer.dispose();
    model.dispose();
    // Names ending in "__op" are op scopes (custom gradients) recorded by the profiler, not kernels.
    return [...new Set(profile.kernels.map((k) => k.name))].filter((name) => !name.endsWith("__op")).sort();
  } finally {
    if (previous) await tf.setBackend(previous);
  }
}

export async function kernelsMissingOn(backendName: string): Promise<string[]> {
  return (await kernelsUsedInTraining()).filter((name) => !tf.getKernel(name, backendName));
}
