// Pooling emitters: MaxPool, AvgPool and GlobalAvgPool.
import { onnxPads, type Padding } from "../../graph/layers/common";
import type { ConvSpec } from "../conv-grads";
import { registerTrainingEmitter, type EmitContext } from "../emitter";
import { avgPoolBackward, avgPoolForms, maxPoolBackward, maxPoolForms, maxPoolForward, type MaxPoolForm, type MaxPoolTape } from "../pool-grads";

registerTrainingEmitter<unknown, null>({
  type: "GlobalAvgPool",
  forward(ctx) {
    const { g } = ctx;
    const [n, c] = ctx.inputs[0].shape;
    return { output: { name: g.reshape(g.op("GlobalAveragePool", [ctx.inputs[0].name]), [n, c]), shape: [n, c] }, tape: null };
  },
  backward(ctx, _tape, dy) {
    const { g } = ctx;
    const [n, c, h, w] = ctx.inputs[0].shape;
    return [g.op("Expand", [g.scale(g.reshape(dy, [n, c, 1, 1]), 1 / (h * w)), g.i64([n, c, h, w])])];
  },
});

interface PoolData {
  kernel_size: [number, number];
  stride: [number, number];
  padding: Padding;
}

function poolSpec(ctx: EmitContext<PoolData>): ConvSpec {
  const { data } = ctx;
  const [n, c, h, w] = ctx.inputs[0].shape;
  const [ho, wo] = ctx.outputShape;
  const pads = onnxPads(ctx.inputShapes[0], data.kernel_size, data.stride, [1, 1], data.padding) as ConvSpec["pads"];
  const [kh, kw] = data.kernel_size;
  const [sh, sw] = data.stride;
  return { n, c, h, w, co: c, kh, kw, sh, sw, pads, group: 1, ho, wo };
}

// ---- MaxPool: backward routes the gradient through the forward's argmax.
registerTrainingEmitter<PoolData, { spec: ConvSpec; form: MaxPoolForm; pool: MaxPoolTape }>({
  type: "MaxPool",
  forward(ctx) {
    const { g } = ctx;
    const spec = poolSpec(ctx);
    const shape = [spec.n, spec.c, spec.ho, spec.wo];
    // Inference needs no indices; training picks the forward with the backward it serves.
    const form = ctx.training ? ctx.choose("maxpool", spec, maxPoolForms(spec)) : "s2d";
    const pool = maxPoolForward(g, spec, form, ctx.inputs[0].name);
    return { output: { name: pool.y, shape }, tape: { spec, form, pool } };
  },
  backward(ctx, { spec, form, pool }, dy) {
    if (!ctx.needInputGrad[0]) return [null];
    const { g } = ctx;
    // A ReLU before the pool: its mask at the argmax is (pooled > 0), applied here on 1/k² of the values.
    const routed = ctx.reluFoldedFromInput ? g.mul(dy, g.op("Sign", [pool.y])) : dy;
    return [maxPoolBackward(g, spec, form, pool, routed)];
  },
});

// ---- AvgPool: an explicit padding counts its zeros (PyTorch's default, TF.js pads first); TF's
// 'same' averages the real pixels only.
registerTrainingEmitter<PoolData, { spec: ConvSpec; countPads: boolean }>({
  type: "AvgPool",
  forward(ctx) {
    const spec = poolSpec(ctx);
    const countPads = ctx.data.padding.mode === "explicit";
    const y = ctx.g.op("AveragePool", [ctx.inputs[0].name], { kernel_shape: [spec.kh, spec.kw], strides: [spec.sh, spec.sw], pads: spec.pads, count_include_pad: countPads ? 1 : 0 });
    return { output: { name: y, shape: [spec.n, spec.c, spec.ho, spec.wo] }, tape: { spec, countPads } };
  },
  backward(ctx, { spec, countPads }, dy) {
    if (!ctx.needInputGrad[0]) return [null];
    const form = ctx.choose("avgpool", spec, avgPoolForms(spec));
    return [avgPoolBackward(ctx.g, spec, form, dy, countPads)];
  },
});
