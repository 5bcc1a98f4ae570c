// MaxPool forward + backward formulations (exact, first maximum of a window in row-major order, as
// TF.js routes the gradient). "unpool": MaxPool's Indices output, MaxUnpool back (ScatterElements
// with addition where windows overlap). "s2d", for non-overlapping unpadded k×k/k pools: plain MaxPool
// forward (its Indices output is the slow part) and, backward, the window's first argmax found again
// from SpaceToDepth + ArgMax, the gradient placed by Where and DepthToSpace.
import type { TrainGraph } from "./builder";
import type { ConvSpec } from "./conv-grads";

export type MaxPoolForm = "unpool" | "s2d";

export interface MaxPoolTape {
  x: string;
  y: string;
  indices: string | null;
}

/** Forms that apply to this pool (spec: input [n, c, h, w], kernel, stride, pads, output [ho, wo]). */
export function maxPoolForms(spec: ConvSpec): MaxPoolForm[] {
  const { kh, kw, sh, sw, h, w } = spec;
  const tiles = kh === kw && sh === kh && sw === kw && spec.pads.every((p) => p === 0) && h % kh === 0 && w % kw === 0;
  return tiles ? ["unpool", "s2d"] : ["unpool"];
}

export function maxPoolForward(g: TrainGraph, spec: ConvSpec, form: MaxPoolForm, x: string): MaxPoolTape {
  const attributes = { kernel_shape: [spec.kh, spec.kw], strides: [spec.sh, spec.sw], pads: spec.pads };
  if (form === "s2d") return { x, y: g.op("MaxPool", [x], attributes), indices: null };
  const [y, indices] = g.ops("MaxPool", [x], 2, attributes);
  return { x, y, indices };
}

/** dX [n, c, h, w] from the (already masked) output gradient dy [n, c, ho, wo]. */
export function maxPoolBackward(g: TrainGraph, spec: ConvSpec, form: MaxPoolForm, tape: MaxPoolTape, dy: string): string {
  const { n, c, h, w, kh, kw, ho, wo } = spec;
  const shape = [n, c, h, w];
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
