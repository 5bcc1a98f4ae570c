import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../ml/backend";
await initBackend("wasm");
function time(label: string, f: () => tf.Tensor) { for (let i=0;i<3;i++) f().dispose(); const t=performance.now(); const N=10; for (let i=0;i<N;i++){ const r=f(); r.dataSync(); r.dispose(); } console.log(label, ((performance.now()-t)/N).toFixed(2)); }
for (const [H, ci, co] of [[64,3,16],[32,16,32],[16,32,64]]) {
  const x = tf.randomNormal([32,H,H,ci]); const dy = tf.randomNormal([32,H,H,co]); const w = tf.randomNormal([3,3,ci,co]);
  console.log(`--- H=${H} ci=${ci} co=${co}`);
  time("fwd conv", () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same"));
  time("bpFilter(ours)", () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same").dispose() as unknown as tf.Tensor || tf.engine().runKernel("Conv2DBackpropFilter", {x, dy}, {strides:1,pad:"same",dataFormat:"NHWC",filterShape:[3,3,ci,co]}) as tf.Tensor);
  time("bpFilter only", () => tf.engine().runKernel("Conv2DBackpropFilter", {x, dy}, {strides:1,pad:"same",dataFormat:"NHWC",filterShape:[3,3,ci,co]}) as tf.Tensor);
  time("transpose x", () => tf.transpose(x,[3,1,2,0]));
  time("transpose dy", () => tf.transpose(dy,[1,2,0,3]));
  time("matmul im2colT x dy (K=N*H*W)", () => tf.matMul(tf.reshape(tf.concat([x,x,x,x,x,x,x,x,x],3),[-1,9*ci]), tf.reshape(dy,[-1,co]), true, false));
  time("concat9", () => tf.concat([x,x,x,x,x,x,x,x,x],3));
  time("matmul x^T dy one tap", () => tf.matMul(tf.reshape(x,[-1,ci]), tf.reshape(dy,[-1,co]), true, false));
  time("matmul dy^T x one tap", () => tf.matMul(tf.reshape(dy,[-1,co]), tf.reshape(x,[-1,ci]), true, false));
  time("bpInput", () => tf.engine().runKernel("Conv2DBackpropInput", {dy, filter: w}, {strides:1,pad:"same",dataFormat:"NHWC",inputShape:[32,H,H,ci]}) as tf.Tensor);
  time("sum dy 0,1,2", () => tf.sum(dy,[0,1,2]));
  time("sum dy reshape", () => tf.sum(tf.reshape(dy,[-1,co]),0));
  time("matmul ones", () => tf.matMul(tf.ones([1, 32*H*H]), tf.reshape(dy,[-1,co])));
}
