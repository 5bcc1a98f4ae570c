import { it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "/work/main/server/ml/backend/index";
import { buildReferenceCnn } from "/work/main/server/ml/backend/reference-cnn";

function grads() {
  const m = buildReferenceCnn({ imgsz: 16, numClasses: 3, seed: 1 });
  const x = tf.tensor4d(Float32Array.from({ length: 4 * 16 * 16 * 3 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5), [4, 16, 16, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3).toFloat();
  const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.apply(x) as tf.Tensor) as tf.Scalar, m.trainableWeights.map((w) => w.read() as tf.Variable));
  return m.trainableWeights.map((w) => Array.from(grads[(w.read() as tf.Variable).name].dataSync()));
}
it("grad", async () => {
  await tf.setBackend("cpu");
  const ref = grads();
  await initBackend("wasm");
  const got = grads();
  ref.forEach((r, i) => { let max = 0, mag = 0; r.forEach((v, j) => { max = Math.max(max, Math.abs(v - got[i][j])); mag = Math.max(mag, Math.abs(v)); }); console.log(i, r.length, max.toExponential(2), mag.toExponential(2)); });
  await initBackend("cpu");
  const cpu = grads();
  ref.forEach((r, i) => { let max = 0; r.forEach((v, j) => { max = Math.max(max, Math.abs(v - cpu[i][j])); }); console.log("cpu", i, max.toExponential(2)); });
});
