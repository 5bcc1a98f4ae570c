// Training emitters of the parameter-light layer types: Input, activations, BatchNorm, Dense,
// Flatten, Softmax, Dropout and the merge/reshape nodes.
import { float } from "../builder";
import { registerTrainingEmitter } from "../emitter";
import { activationBackward, activationForward, type ActivationName, type ActivationTape } from "./activation";

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

// ---- Input: the batch arrives NHWC (as the loaders make it); the graph computes NCHW.
registerTrainingEmitter<unknown, null>({
  type: "Input",
  forward(ctx) {
    const [n, h, w, c] = ctx.inputs[0].shape;
    return { output: { name: ctx.g.transpose(ctx.inputs[0].name, [0, 3, 1, 2]), shape: [n, c, h, w] }, tape: null };
  },
  backward: () => [],
});

// ---- activation nodes
function activationNode(type: string, activation: ActivationName) {
  registerTrainingEmitter<{ alpha?: number }, ActivationTape>({
    type,
    outputActivation: () => activation,
    forward(ctx) {
      const tape = activationForward(ctx.g, activation, ctx.inputs[0].name, ctx.data.alpha);
      return { output: { name: tape.y, shape: ctx.inputs[0].shape }, tape };
    },
    backward: (ctx, tape, dy) => [activationBackward(ctx.g, tape, dy, ctx.reluFoldedIntoConsumer)],
  });
}
activationNode("ReLU", "relu");
activationNode("ReLU6", "relu6");
activationNode("SiLU", "silu");
activationNode("Sigmoid", "sigmoid");
activationNode("Tanh", "tanh");
activationNode("LeakyReLU", "leaky_relu");

// ---- BatchNorm (training mode: batch statistics; moving statistics as extra outputs)
interface BatchNormTape {
  /** x − mean: backward from it avoids the cancellation of Σdy·x − mean·Σdy when |mean| ≫ std. */
  centered: string;
  rstd: string;
  count: number;
  channels: number;
  spatial: boolean;
}

registerTrainingEmitter<{ eps: number; momentum: number }, BatchNormTape | null>({
  type: "BatchNorm",
  unsupported: (_data, [input]) => (input.length === 3 || input.length === 1 ? null : "needs [H, W, C] or [F]"),
  forward(ctx) {
    const { g, data } = ctx;
    const input = ctx.inputs[0];
    const spatial = input.shape.length === 4;
    const channels = input.shape[1];
    const count = product(input.shape) / channels;
    const gamma = ctx.param("gamma");
    const beta = ctx.param("beta");
    // BatchNormalization wants NCHW-like input; a [N, F] vector is read as [N, F, 1, 1].
    const x4 = spatial ? input.name : g.reshape(input.name, [input.shape[0], channels, 1, 1]);
    const unflatten = (y: string) => (spatial ? y : g.reshape(y, input.shape));
    if (!ctx.training) {
      const y = g.op("BatchNormalization", [x4, gamma, beta, ctx.param("moving_mean"), ctx.param("moving_variance")], { epsilon: float(data.eps) });
      return { output: { name: unflatten(y), shape: input.shape }, tape: null };
    }
    // Two-pass statistics (biased variance), then ONE normalising pass:
    // inference-mode BatchNormalization fed with the batch statistics.
    const mean = g.op("ReduceMean", [x4], { axes: [0, 2, 3], keepdims: 0 });
    const centered = g.sub(x4, g.reshape(mean, [1, channels, 1, 1]));
    const variance = g.scale(g.op("ReduceSumSquare", [centered], { axes: [0, 2, 3], keepdims: 0 }), 1 / count);
    const rstd = g.op("Reciprocal", [g.op("Sqrt", [g.add(variance, g.f32(data.eps))])]);
    const y = g.op("BatchNormalization", [x4, gamma, beta, mean, variance], { epsilon: float(data.eps) });
    ctx.movingAverage("moving_mean", mean, [channels], data.momentum);
    // PyTorch's running_var follows the unbiased batch variance, n/(n − 1) of the one that normalises.
    ctx.movingAverage("moving_variance", count > 1 ? g.scale(variance, count / (count - 1)) : variance, [channels], data.momentum);
    return { output: { name: unflatten(y), shape: input.shape }, tape: { centered, rstd, count, channels, spatial } };
  },
  backward(ctx, tape, dy) {
    const { g } = ctx;
    const { centered, rstd, count, channels } = tape!;
    const shape = ctx.inputs[0].shape;
    const dy4 = tape!.spatial ? dy : g.reshape(dy, [shape[0], channels, 1, 1]);
    const sumDy = g.reduceSum(dy4, [0, 2, 3]);
    // Σ dy·x̂ = rstd·Σ dy·(x − mean)
    const dGamma = g.mul(rstd, g.reduceSum(g.mul(dy4, centered), [0, 2, 3]));
    ctx.grad("beta", sumDy);
    ctx.grad("gamma", dGamma);
    if (!ctx.needInputGrad[0]) return [null];
    // dx = k·dy + cx·(x − mean) + c0 per channel, with k = γ·rstd, cx = −k·rstd·dγ/M, c0 = −k·Σdy/M.
    const k = g.mul(ctx.param("gamma"), rstd);
    const cx = g.scale(g.mul(g.mul(k, rstd), dGamma), -1 / count);
    const c0 = g.scale(g.mul(k, sumDy), -1 / count);
    // cx·(x − mean) + c0 in one pass: BatchNormalization with mean 0, variance 0 and epsilon 1.
    const zeros = g.f32Tensor(new Array(channels).fill(0), [channels]);
    const affine = g.op("BatchNormalization", [centered, cx, c0, zeros, zeros], { epsilon: float(1) });
    const dx = g.add(g.mul(dy4, g.reshape(k, [1, channels, 1, 1])), affine);
    return [tape!.spatial ? dx : g.reshape(dx, shape)];
  },
});

// ---- Dense: y = x·W + b with TF.js's kernel [in, units]
interface DenseData {
  units: number;
  bias: boolean;
  activation: ActivationName;
}

registerTrainingEmitter<DenseData, { x: string; act: ActivationTape }>({
  type: "Dense",
  outputActivation: (data) => data.activation,
  unsupported: (_data, [input]) => (input.length === 1 ? null : "needs a vector input"),
  forward(ctx) {
    const { g, data } = ctx;
    const x = ctx.inputs[0].name;
    const inputs = [x, ctx.param("kernel")];
    if (data.bias) inputs.push(ctx.param("bias"));
    const z = g.op("Gemm", inputs);
    const act = activationForward(g, data.activation, z);
    return { output: { name: act.y, shape: [ctx.batch, data.units] }, tape: { x, act } };
  },
  backward(ctx, tape, dy) {
    const { g } = ctx;
    const dz = activationBackward(g, tape.act, dy, ctx.reluFoldedIntoConsumer);
    ctx.grad("kernel", g.op("Gemm", [tape.x, dz], { transA: 1 }));
    if (ctx.data.bias) ctx.grad("bias", g.reduceSum(dz, [0]));
    return [ctx.needInputGrad[0] ? g.op("Gemm", [dz, ctx.param("kernel")], { transB: 1 }) : null];
  },
});

// ---- Flatten: TF.js flattens NHWC, so go back to NHWC first (the Dense weights expect that order).
registerTrainingEmitter<unknown, null>({
  type: "Flatten",
  forward(ctx) {
    const { g } = ctx;
    const input = ctx.inputs[0];
    const n = input.shape[0];
    const nhwc = input.shape.length === 4 ? g.transpose(input.name, [0, 2, 3, 1]) : input.name;
    return { output: { name: g.reshape(nhwc, [n, product(input.shape) / n]), shape: [n, product(input.shape) / n] }, tape: null };
  },
  backward(ctx, _tape, dy) {
    const { g } = ctx;
    const shape = ctx.inputs[0].shape;
    if (shape.length !== 4) return [g.reshape(dy, shape)];
    const [n, c, h, w] = shape;
    return [g.transpose(g.reshape(dy, [n, h, w, c]), [0, 3, 1, 2])];
  },
});

// ---- Softmax over channels of a vector (a classifier ending in probabilities)
registerTrainingEmitter<unknown, { y: string }>({
  type: "Softmax",
  unsupported: (_data, [input]) => (input.length === 1 ? null : "Softmax over images has no training graph yet"),
  forward(ctx) {
    const y = ctx.g.op("Softmax", [ctx.inputs[0].name], { axis: 1 });
    return { output: { name: y, shape: ctx.inputs[0].shape }, tape: { y } };
  },
  backward(ctx, { y }, dy) {
    const { g } = ctx;
    // dx = y·(dy − Σ dy·y)
    const dot = g.reduceSum(g.mul(dy, y), [1], true);
    return [g.mul(y, g.sub(dy, dot))];
  },
});

// ---- Dropout: a fresh mask per run, fed by the trainer (identity in inference).
registerTrainingEmitter<{ rate: number }, { mask: string | null }>({
  type: "Dropout",
  forward(ctx) {
    const input = ctx.inputs[0];
    if (!ctx.training || ctx.data.rate === 0) return { output: input, tape: { mask: null } };
    const mask = ctx.dropoutMask(input.shape, ctx.data.rate);
    return { output: { name: ctx.g.mul(input.name, mask), shape: input.shape }, tape: { mask } };
  },
  backward: (ctx, { mask }, dy) => [mask ? ctx.g.mul(dy, mask) : dy],
});

// ---- Add: the gradient flows unchanged into every input.
registerTrainingEmitter<unknown, null>({
  type: "Add",
  forward(ctx) {
    return { output: { name: ctx.g.sum(ctx.inputs.map((i) => i.name)), shape: ctx.inputs[0].shape }, tape: null };
  },
  backward: (ctx, _tape, dy) => ctx.needInputGrad.map((need) => (need ? dy : null)),
});

// ---- Concat along channels: backward splits the gradient.
registerTrainingEmitter<unknown, null>({
  type: "Concat",
  forward(ctx) {
    const shape = [...ctx.inputs[0].shape];
    shape[1] = ctx.inputs.reduce((sum, i) => sum + i.shape[1], 0);
    return { output: { name: ctx.g.op("Concat", ctx.inputs.map((i) => i.name), { axis: 1 }), shape }, tape: null };
  },
  backward(ctx, _tape, dy) {
    const { g } = ctx;
    const parts = g.ops("Split", [dy, g.i64(ctx.inputs.map((i) => i.shape[1]))], ctx.inputs.length, { axis: 1 });
    return parts.map((part, i) => (ctx.needInputGrad[i] ? part : null));
  },
});

// ---- Slice of channels: backward pads the gradient back with zeros.
registerTrainingEmitter<{ start: number; end: number }, null>({
  type: "Slice",
  forward(ctx) {
    const { start, end } = ctx.data;
    const shape = [...ctx.inputs[0].shape];
    shape[1] = end - start;
    return { output: { name: ctx.g.slice(ctx.inputs[0].name, [start], [end], [1]), shape }, tape: null };
  },
  backward(ctx, _tape, dy) {
    const { g } = ctx;
    const rank = ctx.inputs[0].shape.length;
    const before = new Array(rank).fill(0);
    const after = new Array(rank).fill(0);
    before[1] = ctx.data.start;
    after[1] = ctx.inputs[0].shape[1] - ctx.data.end;
    return [g.op("Pad", [dy, g.i64([...before, ...after])], { mode: "constant" })];
  },
});

// ---- Upsample (nearest, integer scale): backward sums each scale×scale block.
registerTrainingEmitter<{ scale: number }, null>({
  type: "Upsample",
  forward(ctx) {
    const { g } = ctx;
    const s = ctx.data.scale;
    const [n, c, h, w] = ctx.inputs[0].shape;
    const scales = g.f32Tensor([1, 1, s, s], [4]);
    const y = g.op("Resize", [ctx.inputs[0].name, "", scales], { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" });
    return { output: { name: y, shape: [n, c, h * s, w * s] }, tape: null };
  },
  backward(ctx, _tape, dy) {
    const { g } = ctx;
    const s = ctx.data.scale;
    const [n, c, h, w] = ctx.inputs[0].shape;
    return [g.reduceSum(g.reshape(dy, [n, c, h, s, w, s]), [3, 5])];
  },
});

// ---- ZeroPadding: backward crops.
registerTrainingEmitter<{ padding: [number, number, number, number] }, null>({
  type: "ZeroPadding",
  forward(ctx) {
    const { g } = ctx;
    const [t, b, l, r] = ctx.data.padding;
    const [n, c, h, w] = ctx.inputs[0].shape;
    return { output: { name: g.padSpatial(ctx.inputs[0].name, [t, l, b, r]), shape: [n, c, h + t + b, w + l + r] }, tape: null };
  },
  backward(ctx, _tape, dy) {
    const [t, , l] = ctx.data.padding;
    const [, , h, w] = ctx.inputs[0].shape;
    return [ctx.g.slice(dy, [t, l], [t + h, l + w], [2, 3])];
  },
});

