// Conv2D input gradients expressed as forward convolutions, so a backend with a fast forward Conv2D
// (WASM: XNNPACK) gets equally fast gradients. Only NHWC and dilation 1 occur in TF.js gradients.
import * as tf from "@tensorflow/tfjs";
import { Composer, type TensorInfo } from "./kernel-compose";

type ConvInfo = tf.backend_util.Conv2DInfo;

export interface ConvGradAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

export function assertChannelsLast(kernelName: string, dataFormat: string | undefined): void {
  if (dataFormat === "NCHW") {
    throw new Error(`${kernelName}: dataFormat NCHW is not supported by our gradient kernels; use NHWC`);
  }
}

export function convInfoFor(
  xShape: number[],
  filterShape: number[],
  attrs: ConvGradAttrs,
  depthwise = false,
): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    "channelsLast",
  );
}

/**
 * dx is the correlation of dy — zeros inserted between its values when strided — with the filter
 * rotated by 180° and its in/out channels swapped (`flippedFilter`, [kh, kw, Co, Ci]). Returns null
 * when the geometry needs a negative leading padding (explicit paddings larger than the filter),
 * which callers handle otherwise.
 */
export function conv2dBackpropInputByConv(
  c: Composer,
  dy: TensorInfo,
  flippedFilter: TensorInfo,
  info: ConvInfo,
): TensorInfo | null {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const top = kh - 1 - padInfo.top;
  const left = kw - 1 - padInfo.left;
  if (top < 0 || left < 0) return null;
  return c.scoped((temp) => {
    const dyUp = temp(insertZeros(c, dy, sh, sw));
    const rows = spanAfterLeadingPad(info.inHeight, kh, top, dyUp.shape[1]);
    const cols = spanAfterLeadingPad(info.inWidth, kw, left, dyUp.shape[2]);
    let input = dyUp;
    if (rows.crop < dyUp.shape[1] || cols.crop < dyUp.shape[2]) {
      input = temp(c.slice(dyUp, [0, 0, 0, 0], [dyUp.shape[0], rows.crop, cols.crop, dyUp.shape[3]]));
    }
    return c.conv2d(
      input,
      flippedFilter,
      [1, 1],
      [1, 1],
      [
        [top, rows.trailingPad],
        [left, cols.trailingPad],
      ],
    );
  });
}

/** The filter [kh, kw, Ci, Co] rotated by 180° with in/out channels swapped: out[a, b, co, ci] = filter[kh-1-a, kw-1-b, ci, co]. */
export function flipFilterInto(out: Float32Array, filter: Float32Array, shape: number[]): void {
  const [kh, kw, inC, outC] = shape;
  let o = 0;
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const tap = ((kh - 1 - a) * kw + (kw - 1 - b)) * inC * outC;
      for (let co = 0; co < outC; co++) {
        for (let source = tap + co; source < tap + inC * outC; source += outC) out[o++] = filter[source];
      }
    }
  }
}

/** How much of a length-`have` axis to keep, and how much to pad after it, so a stride-1 conv yields `want`. */
function spanAfterLeadingPad(want: number, k: number, leadingPad: number, have: number) {
  const needed = want + k - 1 - leadingPad;
  return have >= needed ? { crop: needed, trailingPad: 0 } : { crop: have, trailingPad: needed - have };
}

/** [N,H,W,C] → [N,H·sh,W·sw,C] with each value followed by sh-1 / sw-1 zeros. */
function insertZeros(c: Composer, x: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, h, w, ch] = x.shape;
  if (sh === 1 && sw === 1) return c.reshape(x, x.shape);
  return c.scoped((temp) => {
    const spread = temp(c.reshape(x, [n, h, 1, w, 1, ch]));
    const padded = temp(
      c.pad(spread, [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]),
    );
    return c.reshape(padded, [n, h * sh, w * sw, ch]);
  });
}
