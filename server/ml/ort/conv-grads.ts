// The backward formulations of a 2-D convolution as standard ONNX ops. All are exact; which is
// fastest depends on the layer's shape and the execution provider (the spike's findings: im2col +
// batched MatMul for few input channels, one MatMul per kernel tap for wider layers at stride 1,
// NHWC strided slices at stride 2; input gradients as a flipped Conv at stride 1, ConvTranspose
// otherwise), so formulations.ts times them per shape and picks one.
import type { TrainGraph } from "./builder";

/** A convolution as ONNX sees it: NCHW input [n, c, h, w], OIHW weight [co, c/group, kh, kw]. */
export interface ConvSpec {
  n: number;
  c: number;
  h: number;
  w: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  group: number;
  ho: number;
  wo: number;
}

export const FILTER_GRAD_FORMS = ["im2col", "tap", "nhwc", "conv"] as const;
export type FilterGradForm = (typeof FILTER_GRAD_FORMS)[number] | "depthwise_tap" | "depthwise_conv";
export const INPUT_GRAD_FORMS = ["flip", "convT"] as const;
export type InputGradForm = (typeof INPUT_GRAD_FORMS)[number];

export function isDepthwise(spec: ConvSpec): boolean {
  return spec.group > 1 && spec.group === spec.c;
}

/** Filter-gradient forms that apply to this convolution (plain or depthwise; other groupings have none). */
export function filterGradForms(spec: ConvSpec): FilterGradForm[] {
  if (spec.group === 1) return [...FILTER_GRAD_FORMS];
  if (isDepthwise(spec)) return ["depthwise_tap", "depthwise_conv"];
  return [];
}

/** Input-gradient forms that apply: the flipped conv needs stride 1 and pads < kernel. */
export function inputGradForms(spec: ConvSpec): InputGradForm[] {
  const flipOk = spec.sh === 1 && spec.sw === 1 && spec.pads.every((p, i) => p <= (i % 2 === 0 ? spec.kh : spec.kw) - 1);
  const depthwiseFlipOk = spec.group === 1 || isDepthwise(spec);
  return flipOk && depthwiseFlipOk ? ["flip", "convT"] : ["convT"];
}

/** The k·k shifted (and strided) windows of the padded input, one per kernel tap, NCHW [n, c, ho, wo]. */
function tapSlices(g: TrainGraph, xPadded: string, spec: ConvSpec, axes: [number, number]): string[] {
  const { kh, kw, sh, sw, ho, wo } = spec;
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      taps.push(g.slice(xPadded, [a, b], [a + sh * (ho - 1) + 1, b + sw * (wo - 1) + 1], axes, [sh, sw]));
    }
  }
  return taps;
}

/**
 * dW in OIHW [co, c/group, kh, kw] from the layer input x [n, c, h, w] and the output gradient dy
 * [n, co, ho, wo].
 */
export function convFilterGrad(g: TrainGraph, spec: ConvSpec, form: FilterGradForm, x: string, dy: string): string {
  const { n, c, co, kh, kw, ho, wo } = spec;
  const k2 = kh * kw;
  switch (form) {
    case "im2col": {
      // col [n, c·k², ho·wo] from k² strided slices, then one batched MatMul summed over the batch.
      const xp = g.padSpatial(x, spec.pads);
      const cols = tapSlices(g, xp, spec, [2, 3]).map((s) => g.op("Unsqueeze", [s, g.i64([2])]));
      const col = g.reshape(g.op("Concat", cols, { axis: 2 }), [n, c * k2, ho * wo]);
      const perImage = g.op("MatMul", [g.reshape(dy, [n, co, ho * wo]), g.transpose(col, [0, 2, 1])]);
      return g.reshape(g.reduceSum(perImage, [0]), [co, c, kh, kw]);
    }
    case "tap": {
      // One batched MatMul per kernel tap, no im2col buffer: dW[:, :, a, b] = Σ_n dY_n · X_ab,n^T.
      const xp = g.padSpatial(x, spec.pads);
      const dyr = g.reshape(dy, [n, co, ho * wo]);
      const taps = tapSlices(g, xp, spec, [2, 3]).map((s) => {
        const product = g.op("MatMul", [dyr, g.transpose(g.reshape(s, [n, c, ho * wo]), [0, 2, 1])]);
        return g.op("Unsqueeze", [product, g.i64([0])]);
      });
      const summed = g.reduceSum(g.op("Concat", taps, { axis: 0 }), [1]); // [k², co, c]
      return g.reshape(g.transpose(summed, [1, 2, 0]), [co, c, kh, kw]);
    }
    case "nhwc": {
      // Strided slices are fast on NHWC: col [n, ho·wo, k²·c], dY [n, co, ho·wo] is a free reshape of NCHW.
      const xp = g.padSpatial(g.transpose(x, [0, 2, 3, 1]), spec.pads, "nhwc");
      const col = g.reshape(g.op("Concat", tapSlices(g, xp, spec, [1, 2]), { axis: 3 }), [n, ho * wo, k2 * c]);
      const dw = g.reduceSum(g.op("MatMul", [g.reshape(dy, [n, co, ho * wo]), col]), [0]); // [co, k²·c]
      return g.transpose(g.reshape(dw, [co, kh, kw, c]), [0, 3, 1, 2]);
    }
    case "conv": {
      // The textbook form: a Conv over transposed tensors, the batch as channels and the stride as dilation.
      const [t, l, b, r] = spec.pads;
      const xt = g.transpose(x, [1, 0, 2, 3]);
      const dyt = g.transpose(dy, [1, 0, 2, 3]);
      let dwt = g.op("Conv", [xt, dyt], { kernel_shape: [ho, wo], pads: [t, l, b, r], dilations: [spec.sh, spec.sw] });
      const oh = spec.h + t + b - spec.sh * (ho - 1);
      const ow = spec.w + l + r - spec.sw * (wo - 1);
      if (oh !== kh || ow !== kw) dwt = g.slice(dwt, [0, 0], [kh, kw], [2, 3]);
      return g.transpose(dwt, [1, 0, 2, 3]);
    }
    case "depthwise_tap": {
      // Depthwise (multiplier m): dW[c·m+j, 0, a, b] = Σ dY[:, c·m+j] · X_ab[:, c], one Mul + ReduceSum per tap.
      const m = co / c;
      const xp = g.padSpatial(x, spec.pads);
      const taps = tapSlices(g, xp, spec, [2, 3]).map((s) => {
        const xs = m === 1 ? s : g.reshape(g.op("Expand", [g.op("Unsqueeze", [s, g.i64([2])]), g.i64([n, c, m, ho, wo])]), [n, co, ho, wo]);
        return g.reduceSum(g.mul(dy, xs), [0, 2, 3], true); // [1, co, 1, 1]
      });
      return g.reshape(g.op("Concat", taps, { axis: 2 }), [co, 1, kh, kw]);
    }
    case "depthwise_conv": {
      // Each channel's filter gradient is a correlation of its input with its output gradient, summed over
      // the batch: one grouped Conv with channels as groups and the batch as the in-group channels.
      const [t, l, b, r] = spec.pads;
      const xg = g.reshape(g.transpose(x, [1, 0, 2, 3]), [1, c * n, spec.h, spec.w]);
      // weights [co, n, ho, wo]: output channel c·m+j correlates group c (its n images) with dY[:, c·m+j].
      const dyw = g.transpose(dy, [1, 0, 2, 3]);
      let dw = g.op("Conv", [xg, dyw], { kernel_shape: [ho, wo], pads: [t, l, b, r], dilations: [spec.sh, spec.sw], group: c });
      const oh = spec.h + t + b - spec.sh * (ho - 1);
      const ow = spec.w + l + r - spec.sw * (wo - 1);
      if (oh !== kh || ow !== kw) dw = g.slice(dw, [0, 0], [kh, kw], [2, 3]);
      return g.reshape(dw, [co, 1, kh, kw]);
    }
  }
}

/** dX [n, c, h, w] from dy [n, co, ho, wo] and the OIHW weight. */
export function convInputGrad(g: TrainGraph, spec: ConvSpec, form: InputGradForm, dy: string, weight: string): string {
  const { kh, kw, sh, sw, ho, wo, group } = spec;
  const [t, l, b, r] = spec.pads;
  if (form === "flip") {
    // Stride 1: correlate dY with the filter rotated 180°, input and output channels swapped.
    const flipped = g.slice(weight, [-1, -1], [-(2 ** 62), -(2 ** 62)], [2, 3], [-1, -1]);
    let swapped: string;
    if (group === 1) {
      swapped = g.transpose(flipped, [1, 0, 2, 3]); // [c, co, kh, kw]
    } else {
      // Depthwise with multiplier m: group c maps its m output gradients back to channel c.
      swapped = g.reshape(flipped, [spec.c, spec.co / spec.c, kh, kw]);
    }
    return g.op("Conv", [dy, swapped], { kernel_shape: [kh, kw], pads: [kh - 1 - t, kw - 1 - l, kh - 1 - b, kw - 1 - r], group });
  }
  const outputPadding = [spec.h - (sh * (ho - 1) + kh - t - b), spec.w - (sw * (wo - 1) + kw - l - r)];
  return g.op("ConvTranspose", [dy, weight], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [t, l, b, r],
    output_padding: outputPadding,
    group,
  });
}
