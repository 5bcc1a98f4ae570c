// MaxPool forward + backward formulations (exact, first maximum of a window in row-major order, as
// TF.js routes the gradient). "unpool": MaxPool's Indices output, MaxUnpool back (ScatterElements
// with addition where windows overlap). "s2d", for non-overlapping unpadded k×k/k pools: plain MaxPool
// forward (its Indices output is the slow part) and, backward, the window's first argmax found again
// from SpaceToDepth + ArgMax, the gradient placed by Where and DepthToSpace. "rows", for the same
// pools: the input read as [n, c, ho, k, wo, k] (a free reshape), the pool as a max over each window
// row then over the rows; the first maximum is in the first row holding the window's maximum, first
// in that row; the gradient goes back through Where on the same view.
import type { TrainGraph } from "./builder";
import type { ConvSpec } from "./conv-grads";

export type MaxPoolForm = "unpool" | "s2d" | "rows";

export interface MaxPoolTape {
  x: string;
  y: string;
  indices: string | null;
  /** rows: the input as [n, c, ho, k, wo, k] and each window row's maximum [n, c, ho, k, wo, 1]. */
  windows?: string;
  rowMax?: string;
}

/** Forms that apply to this pool (spec: input [n, c, h, w], kernel, stride, pads, output [ho, wo]). */
export function maxPoolForms(spec: ConvSpec): MaxPoolForm[] {
  const { kh, kw, sh, sw, h, w } = spec;
  const tiles = kh === kw && sh === kh && sw === kw && spec.pads.every((p) => p === 0) && h % kh === 0 && w % kw === 0;
  return tiles ? ["unpool", "s2d", "rows"] : ["unpool"];
}

export function maxPoolForward(g: TrainGraph, spec: ConvSpec, form: MaxPoolForm, x: string): MaxPoolTape {
  const attributes = { kernel_shape: [spec.kh, spec.kw], strides: [spec.sh, spec.sw], pads: spec.pads };
  if (form === "s2d") return { x, y: g.op("MaxPool", [x], attributes), indices: null };
  if (form === "rows") {
    const { n, c, ho, wo, kh, kw } = spec;
    const windows = g.reshape(x, [n, c, ho, kh, wo, kw]);
    const rowMax = g.op("ReduceMax", [windows], { axes: [5], keepdims: 1 });
    return { x, y: g.reshape(g.op("ReduceMax", [rowMax], { axes: [3], keepdims: 1 }), [n, c, ho, wo]), indices: null, windows, rowMax };
  }
  const [y, indices] = g.ops("MaxPool", [x], 2, attributes);
  return { x, y, indices };
}

/** dX [n, c, h, w] from the (already masked) output gradient dy [n, c, ho, wo]. */
export function maxPoolBackward(g: TrainGraph, spec: ConvSpec, form: MaxPoolForm, tape: MaxPoolTape, dy: string): string {
  const { n, c, h, w, kh, kw, ho, wo } = spec;
  const shape = [n, c, h, w];
  if (form === "rows") {
    const row = g.op("ArgMax", [tape.rowMax!], { axis: 3, keepdims: 1, select_last_index: 0 }); // [n, c, ho, 1, wo, 1]
    const column = g.op("ArgMax", [tape.windows!], { axis: 5, keepdims: 1, select_last_index: 0 }); // [n, c, ho, k, wo, 1]
    const rows = g.reshape(g.i64(Array.from({ length: kh }, (_, i) => i)), [1, 1, 1, kh, 1, 1]);
    const columns = g.reshape(g.i64(Array.from({ length: kw }, (_, i) => i)), [1, 1, 1, 1, 1, kw]);
    const hit = g.op("And", [g.op("Equal", [row, rows]), g.op("Equal", [column, columns])]);
    return g.reshape(g.op("Where", [hit, g.reshape(dy, [n, c, ho, 1, wo, 1]), g.f32(0)]), shape);
  }
  if (form === "s2d") {
    const k2 = kh * kw;
    // SpaceToDepth (DCR) puts window offset (i, j) at channel block i·k + j: [n, k², c, ho, wo].
    const windows = g.reshape(g.op("SpaceToDepth", [tape.x], { blocksize: kh }), [n, k2, c, ho, wo]);
    const first = g.op("ArgMax", [windows], { axis: 1, keepdims: 1, select_last_index: 0 });
    const offsets = g.reshape(g.i64(Array.from({ length: k2 }, (_, i) => i)), [1, k2, 1, 1, 1]);
    const hit = g.op("Equal", [first, offsets]);
    const placed = g.op("Where", [hit, g.reshape(dy, [n, 1, c, ho, wo]), g.f32(0)]);
    return g.op("DepthToSpace", [g.reshape(placed, [n, k2 * c, ho, wo])], { blocksize: kh, mode: "DCR" });
  }
  const overlapping = kh > spec.sh || kw > spec.sw;
  if (!overlapping) {
    // Each input receives at most one gradient: MaxUnpool is the exact inverse routing.
    return g.op("MaxUnpool", [dy, tape.indices!, g.i64(shape)], { kernel_shape: [kh, kw], strides: [spec.sh, spec.sw], pads: spec.pads });
  }
  // Overlapping windows: one input may be the maximum of several, so the gradients are added.
  const zeros = g.op("Expand", [g.f32(0), g.i64([n * c * h * w])]);
  const flat = g.op("ScatterElements", [zeros, g.reshape(tape.indices!, [-1]), g.reshape(dy, [-1])], { axis: 0, reduction: "add" });
  return g.reshape(flat, shape);
}

export type AvgPoolForm = "convT" | "resize";

/** "resize" for non-overlapping unpadded k×k/k pools that tile the input: each value's share copied over its window. */
export function avgPoolForms(spec: ConvSpec): AvgPoolForm[] {
  return maxPoolForms(spec).includes("s2d") ? ["convT", "resize"] : ["convT"];
}

/** 1 / (the pixels each output window averages): real pixels only, or the whole window when pads count. */
function windowShares(spec: ConvSpec, countPads: boolean): number[] | number {
  const { kh, kw, sh, sw, ho, wo, h, w } = spec;
  const [t, l] = spec.pads;
  const noPads = spec.pads.every((p) => p === 0);
  if (countPads || noPads) return 1 / (kh * kw);
  const shares: number[] = [];
  for (let i = 0; i < ho; i++) {
    const rows = Math.min(i * sh - t + kh, h) - Math.max(i * sh - t, 0);
    for (let j = 0; j < wo; j++) shares.push(1 / (rows * (Math.min(j * sw - l + kw, w) - Math.max(j * sw - l, 0))));
  }
  return shares;
}

/** dX [n, c, h, w] of an average pool from dy [n, c, ho, wo]: each output's gradient spread evenly over its window. */
export function avgPoolBackward(g: TrainGraph, spec: ConvSpec, form: AvgPoolForm, dy: string, countPads: boolean): string {
  const { c, kh, kw, sh, sw, ho, wo } = spec;
  const shares = windowShares(spec, countPads);
  const scaled = typeof shares === "number" ? g.scale(dy, shares) : g.mul(dy, g.f32Tensor(shares, [1, 1, ho, wo]));
  if (form === "resize") {
    return g.op("Resize", [scaled, "", g.f32Tensor([1, 1, kh, kw], [4])], { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" });
  }
  const [t, l, b, r] = spec.pads;
  const ones = g.f32Tensor(new Array(c * kh * kw).fill(1), [c, 1, kh, kw]);
  const outputPadding = [spec.h - (sh * (ho - 1) + kh - t - b), spec.w - (sw * (wo - 1) + kw - l - r)];
  return g.op("ConvTranspose", [scaled, ones], { kernel_shape: [kh, kw], strides: [sh, sw], pads: [t, l, b, r], output_padding: outputPadding, group: c });
}
