// The formulations of a 2-D convolution's forward (plain Conv, or ONNX Runtime's blocked NCHWc
// kernel) and backward as ONNX ops. All are exact; which is fastest depends on the layer's shape and
// the execution provider (the spike's findings: im2col + batched MatMul for few input channels, one
// MatMul per kernel tap for wider layers at stride 1, NHWC strided slices at stride 2; input
// gradients as a flipped Conv at stride 1, ConvTranspose otherwise), so formulations.ts times them
// per shape and picks one.
import type { TrainGraph } from "./builder";
import { blockedFlippedFilter, nchwcConv, nchwcFits } from "./nchwc";

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
  /** [dh, dw]; absent: 1 × 1. */
  dilation?: [number, number];
}

export function dilationOf(spec: ConvSpec): [number, number] {
  return spec.dilation ?? [1, 1];
}

export const FILTER_GRAD_FORMS = ["im2col", "tap", "nhwc", "gemm", "conv", "tap_batch"] as const;
export type FilterGradForm = (typeof FILTER_GRAD_FORMS)[number] | "depthwise_tap" | "depthwise_conv";
export const INPUT_GRAD_FORMS = ["flip", "convT", "flip_nchwc"] as const;
export type InputGradForm = (typeof INPUT_GRAD_FORMS)[number];
export type ForwardForm = "nchw" | "nchwc";

export function isDepthwise(spec: ConvSpec): boolean {
  return spec.group > 1 && spec.group === spec.c;
}

/**
 * Filter-gradient forms that apply to this convolution: plain, depthwise, or (other groupings) a
 * plain form per group of channels.
 */
export function filterGradForms(spec: ConvSpec): FilterGradForm[] {
  if (isDepthwise(spec)) return ["depthwise_tap", "depthwise_conv"];
  return [...FILTER_GRAD_FORMS];
}

/**
 * Input-gradient forms that apply: the flipped conv needs stride 1 and pads within the dilated
 * kernel; on NCHWc kernels (`nchwcBlock` > 0) also a plain one whose output gradient fits them.
 */
export function inputGradForms(spec: ConvSpec, nchwcBlock = 0): InputGradForm[] {
  const [dh, dw] = dilationOf(spec);
  const flipOk = spec.sh === 1 && spec.sw === 1 && spec.pads.every((p, i) => p <= (i % 2 === 0 ? dh * (spec.kh - 1) : dw * (spec.kw - 1)));
  if (!flipOk) return ["convT"];
  return nchwcFits(spec.co, spec.group, nchwcBlock) ? ["flip", "convT", "flip_nchwc"] : ["flip", "convT"];
}

/** Forward forms: the plain Conv, and the NCHWc kernel where the layer fits it. */
export function forwardForms(spec: ConvSpec, nchwcBlock = 0): ForwardForm[] {
  return nchwcFits(spec.c, spec.group, nchwcBlock) ? ["nchw", "nchwc"] : ["nchw"];
}

/** y [n, co, ho, wo] = conv(x, OIHW weight) + bias; `relu` fuses a ReLU where the form can (else the caller applies it). */
export function convForward(g: TrainGraph, spec: ConvSpec, form: ForwardForm, x: string, weight: string, bias: string | null, nchwcBlock = 0, relu = false): { z: string; reluApplied: boolean } {
  const dilations = dilationOf(spec);
  if (form === "nchwc") {
    const attributes = { kernel: [spec.kh, spec.kw] as [number, number], strides: [spec.sh, spec.sw] as [number, number], pads: spec.pads, dilations };
    return { z: nchwcConv(g, x, weight, bias, spec, attributes, nchwcBlock, relu), reluApplied: relu };
  }
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const dilated: Record<string, number[]> = spec.dilation ? { dilations } : {};
  return { z: g.op("Conv", inputs, { kernel_shape: [spec.kh, spec.kw], strides: [spec.sh, spec.sw], pads: spec.pads, group: spec.group, ...dilated }), reluApplied: false };
}

/** The k·k shifted (dilated, strided) windows of the padded input, one per kernel tap, NCHW [n, c, ho, wo]. */
function tapSlices(g: TrainGraph, xPadded: string, spec: ConvSpec, axes: [number, number]): string[] {
  const { kh, kw, sh, sw, ho, wo } = spec;
  const [dh, dw] = dilationOf(spec);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      taps.push(g.slice(xPadded, [a * dh, b * dw], [a * dh + sh * (ho - 1) + 1, b * dw + sw * (wo - 1) + 1], axes, [sh, sw]));
    }
  }
  return taps;
}

/**
 * The filter gradient of the "conv" forms, [.., .., oh, ow] for every offset of the window, cut to
 * the kernel's taps: the first kh·kw offsets, every dilation-th one when dilated.
 */
function kernelTaps(g: TrainGraph, spec: ConvSpec, all: string): string {
  const [dh, dw] = dilationOf(spec);
  const [t, l, b, r] = spec.pads;
  const oh = spec.h + t + b - spec.sh * (spec.ho - 1);
  const ow = spec.w + l + r - spec.sw * (spec.wo - 1);
  const spanH = dh * (spec.kh - 1) + 1;
  const spanW = dw * (spec.kw - 1) + 1;
  if (oh === spec.kh && ow === spec.kw) return all;
  return g.slice(all, [0, 0], [spanH, spanW], [2, 3], [dh, dw]);
}

/** A grouped convolution's filter gradient: each group of channels is a plain convolution of its own. */
function groupedFilterGrad(g: TrainGraph, spec: ConvSpec, form: FilterGradForm, x: string, dy: string): string {
  const { group, c, co } = spec;
  const part: ConvSpec = { ...spec, c: c / group, co: co / group, group: 1 };
  const xs = g.ops("Split", [x, g.i64(new Array(group).fill(c / group))], group, { axis: 1 });
  const dys = g.ops("Split", [dy, g.i64(new Array(group).fill(co / group))], group, { axis: 1 });
  return g.op("Concat", xs.map((xg, i) => convFilterGrad(g, part, form, xg, dys[i])), { axis: 0 });
}

/**
 * dW in OIHW [co, c/group, kh, kw] from the layer input x [n, c, h, w] and the output gradient dy
 * [n, co, ho, wo].
 */
export function convFilterGrad(g: TrainGraph, spec: ConvSpec, form: FilterGradForm, x: string, dy: string): string {
  const { n, c, co, kh, kw, ho, wo } = spec;
  const k2 = kh * kw;
  if (spec.group > 1 && !isDepthwise(spec)) return groupedFilterGrad(g, spec, form, x, dy);
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
    case "tap_batch": {
      // One GEMM per kernel tap with the batch inside its contraction: dW[:, :, a, b] = dYᵀ [co, n·ho·wo] · X_abᵀ,
      // from channel-major copies of dY and the padded input (no per-image products to sum afterwards).
      const xp = g.padSpatial(g.transpose(x, [1, 0, 2, 3]), spec.pads);
      const dyt = g.reshape(g.transpose(dy, [1, 0, 2, 3]), [co, n * ho * wo]);
      const taps = tapSlices(g, xp, spec, [2, 3]).map((s) => g.op("Unsqueeze", [g.op("MatMul", [dyt, g.transpose(g.reshape(s, [c, n * ho * wo]), [1, 0])]), g.i64([2])]));
      return g.reshape(g.op("Concat", taps, { axis: 2 }), [co, c, kh, kw]);
    }
    case "nhwc": {
      // Strided slices are fast on NHWC: col [n, ho·wo, k²·c], dY [n, co, ho·wo] is a free reshape of NCHW.
      const xp = g.padSpatial(g.transpose(x, [0, 2, 3, 1]), spec.pads, "nhwc");
      const col = g.reshape(g.op("Concat", tapSlices(g, xp, spec, [1, 2]), { axis: 3 }), [n, ho * wo, k2 * c]);
      const dw = g.reduceSum(g.op("MatMul", [g.reshape(dy, [n, co, ho * wo]), col]), [0]); // [co, k²·c]
      return g.transpose(g.reshape(dw, [co, kh, kw, c]), [0, 3, 1, 2]);
    }
    case "gemm": {
      // One GEMM with the batch inside the contraction: dW [co, k²·c] = dY [co, n·ho·wo] · col [n·ho·wo, k²·c]
      // (NHWC windows). No per-image products to sum afterwards: the form for deep, narrow layers.
      const xp = g.padSpatial(g.transpose(x, [0, 2, 3, 1]), spec.pads, "nhwc");
      const taps = tapSlices(g, xp, spec, [1, 2]);
      const col = g.reshape(taps.length === 1 ? taps[0] : g.op("Concat", taps, { axis: 3 }), [n * ho * wo, k2 * c]);
      const dyt = g.reshape(g.transpose(dy, [1, 0, 2, 3]), [co, n * ho * wo]);
      return g.transpose(g.reshape(g.op("MatMul", [dyt, col]), [co, kh, kw, c]), [0, 3, 1, 2]);
    }
    case "conv": {
      // The textbook form: a Conv over transposed tensors, the batch as channels and the stride as dilation.
      const xt = g.transpose(x, [1, 0, 2, 3]);
      const dyt = g.transpose(dy, [1, 0, 2, 3]);
      const dwt = g.op("Conv", [xt, dyt], { kernel_shape: [ho, wo], pads: spec.pads, dilations: [spec.sh, spec.sw] });
      return g.transpose(kernelTaps(g, spec, dwt), [1, 0, 2, 3]);
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
      const xg = g.reshape(g.transpose(x, [1, 0, 2, 3]), [1, c * n, spec.h, spec.w]);
      // weights [co, n, ho, wo]: output channel c·m+j correlates group c (its n images) with dY[:, c·m+j].
      const dyw = g.transpose(dy, [1, 0, 2, 3]);
      const dw = g.op("Conv", [xg, dyw], { kernel_shape: [ho, wo], pads: spec.pads, dilations: [spec.sh, spec.sw], group: c });
      return g.reshape(kernelTaps(g, spec, dw), [co, 1, kh, kw]);
    }
  }
}

/** The flipped conv's pads: the dilated kernel's span less the forward's. */
function flipPads(spec: ConvSpec): number[] {
  const [t, l, b, r] = spec.pads;
  const [dh, dw] = dilationOf(spec);
  return [dh * (spec.kh - 1) - t, dw * (spec.kw - 1) - l, dh * (spec.kh - 1) - b, dw * (spec.kw - 1) - r];
}

/**
 * An OIHW weight [o, i, kh, kw] rotated 180° in its taps, as a MatMul with the reversing permutation
 * (exact: one product by 1, the rest by 0). A Slice with negative steps copies element by element,
 * several times slower on the large kernels of deep layers.
 */
function rotated(g: TrainGraph, weight: string, o: number, i: number, kh: number, kw: number): string {
  const k2 = kh * kw;
  if (k2 === 1) return weight;
  const reverse = Array.from({ length: k2 * k2 }, (_, e) => (Math.floor(e / k2) + (e % k2) === k2 - 1 ? 1 : 0));
  return g.reshape(g.op("MatMul", [g.reshape(weight, [o * i, k2]), g.f32Tensor(reverse, [k2, k2])]), [o, i, kh, kw]);
}

/** dX [n, c, h, w] from dy [n, co, ho, wo] and the OIHW weight (`nchwcBlock`: the NCHWc kernels' block, for flip_nchwc). */
export function convInputGrad(g: TrainGraph, spec: ConvSpec, form: InputGradForm, dy: string, weight: string, nchwcBlock = 0): string {
  const { kh, kw, sh, sw, ho, wo, group } = spec;
  const [t, l, b, r] = spec.pads;
  const [dh, dw] = dilationOf(spec);
  const dilations: Record<string, number[]> = dh === 1 && dw === 1 ? {} : { dilations: [dh, dw] };
  if (form === "flip_nchwc") {
    const filter = blockedFlippedFilter(g, weight, spec.co, spec.c, [kh, kw], nchwcBlock);
    return nchwcConv(g, dy, { filter }, null, { c: spec.co, co: spec.c }, { kernel: [kh, kw], strides: [1, 1], pads: flipPads(spec), dilations: [dh, dw] }, nchwcBlock);
  }
  if (form === "flip") {
    // Stride 1: correlate dY with the filter rotated 180°, input and output channels swapped.
    const flipped = rotated(g, weight, spec.co, spec.c / group, kh, kw);
    let swapped: string;
    if (group === 1) {
      swapped = g.transpose(flipped, [1, 0, 2, 3]); // [c, co, kh, kw]
    } else if (isDepthwise(spec)) {
      // Depthwise with multiplier m: group c maps its m output gradients back to channel c.
      swapped = g.reshape(flipped, [spec.c, spec.co / spec.c, kh, kw]);
    } else {
      // [g·co/g, c/g, kh, kw] → [g·c/g, co/g, kh, kw]: in and out swapped within each group.
      const perGroup = g.reshape(flipped, [group, spec.co / group, spec.c / group, kh, kw]);
      swapped = g.reshape(g.transpose(perGroup, [0, 2, 1, 3, 4]), [spec.c, spec.co / group, kh, kw]);
    }
    return g.op("Conv", [dy, swapped], { kernel_shape: [kh, kw], pads: flipPads(spec), group, ...dilations });
  }
  const outputPadding = [spec.h - (sh * (ho - 1) + dh * (kh - 1) + 1 - t - b), spec.w - (sw * (wo - 1) + dw * (kw - 1) + 1 - l - r)];
  return g.op("ConvTranspose", [dy, weight], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [t, l, b, r],
    output_padding: outputPadding,
    group,
    ...dilations,
  });
}
