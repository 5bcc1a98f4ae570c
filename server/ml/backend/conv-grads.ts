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

export function phasesApply(info: ConvInfo): boolean {
  return info.strideHeight === info.strideWidth && info.strideHeight > 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
}

/** Taps of a stride-`s` phase filter along an axis of a size-`k` kernel. */
export function phaseTaps(k: number, s: number): number {
  return Math.ceil(k / s);
}

/**
 * The sub-pixel (phase) form of a strided conv's input gradient: input position u = t + padTop splits
 * into u = s·q + r, and phase r receives dy[q − m]·W[r + s·m] for every tap m with r + s·m < k. All s²
 * phases are the output channels of ONE stride-1 conv of dy with a ⌈k/s⌉² filter (`phaseFilter`, see
 * phaseFilterInto): (k/s)² of the forward FLOPs instead of the k² of correlating a zero-inserted dy
 * (4× the forward for 3×3 stride 2; 16/9 here). Returns the phases [N, Q, P, s²·Ci]; interleavePhasesInto
 * turns them into dx. Only for equal strides > 1 (phasesApply).
 */
export function phaseGradients(c: Composer, dy: TensorInfo, phaseFilter: TensorInfo, info: ConvInfo): TensorInfo {
  const { strideHeight: s, filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  const [th, tw] = [phaseTaps(kh, s), phaseTaps(kw, s)];
  // Enough phase rows q to reach the last input row (s·q + r − top = inHeight − 1).
  const trailingRows = Math.max(0, Math.ceil((inHeight + padInfo.top) / s) - outHeight);
  const trailingCols = Math.max(0, Math.ceil((inWidth + padInfo.left) / s) - outWidth);
  return c.conv2d(
    dy,
    phaseFilter,
    [1, 1],
    [1, 1],
    [
      [th - 1, trailingRows],
      [tw - 1, trailingCols],
    ],
  );
}

/**
 * dx[n, t, x, ci] = phases[n, ⌊u/s⌋, ⌊v/s⌋, ((u mod s)·s + v mod s)·Ci + ci] with u = t + top, v = x + left:
 * DepthToSpace and the crop to the input in one pass (WASM's DepthToSpace alone took ~80 ms for
 * [4,80,80,64], 4× the phase conv).
 */
export function interleavePhasesInto(dx: Float32Array, phases: Float32Array, phasesShape: number[], info: ConvInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: inC, strideHeight: s, padInfo } = info;
  const [, rows, cols, phaseChannels] = phasesShape;
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let t = 0; t < inHeight; t++) {
      const u = t + padInfo.top;
      const rowStart = (n * rows + Math.floor(u / s)) * cols * phaseChannels + (u % s) * s * inC;
      for (let x = 0; x < inWidth; x++) {
        const v = x + padInfo.left;
        const source = rowStart + Math.floor(v / s) * phaseChannels + (v % s) * inC;
        for (let ci = source; ci < source + inC; ci++) dx[o++] = phases[ci];
      }
    }
  }
}

/**
 * The phase filter of conv2dBackpropInputByPhases from a filter [kh, kw, Ci, Co] and stride s:
 * out[bh, bw, co, (rh·s + rw)·Ci + ci] = filter[rh + s·(th−1−bh), rw + s·(tw−1−bw), ci, co], zero
 * where that tap lies outside the kernel. Shape [th, tw, Co, s²·Ci] with th = ⌈kh/s⌉, tw = ⌈kw/s⌉.
 */
export function phaseFilterInto(out: Float32Array, filter: Float32Array, shape: number[], s: number): void {
  const [kh, kw, inC, outC] = shape;
  const [th, tw] = [phaseTaps(kh, s), phaseTaps(kw, s)];
  const phaseChannels = s * s * inC;
  out.fill(0);
  for (let bh = 0; bh < th; bh++) {
    for (let bw = 0; bw < tw; bw++) {
      for (let rh = 0; rh < s; rh++) {
        const a = rh + s * (th - 1 - bh);
        if (a >= kh) continue;
        for (let rw = 0; rw < s; rw++) {
          const b = rw + s * (tw - 1 - bw);
          if (b >= kw) continue;
          const tap = (a * kw + b) * inC * outC;
          const phase = (rh * s + rw) * inC;
          for (let co = 0; co < outC; co++) {
            const row = ((bh * tw + bw) * outC + co) * phaseChannels + phase;
            for (let ci = 0; ci < inC; ci++) out[row + ci] = filter[tap + ci * outC + co];
          }
        }
      }
    }
  }
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
