// How the trainer keeps a weight for ONNX Runtime: conv kernels as ONNX's Conv reads them (OIHW)
// instead of TF.js's HWIO, so that no step transposes them into the graph or their gradients out
// (on resnet18 those transposes were ~15% of a step). The optimizer is elementwise, so it runs on
// any layout; the TF.js model and optimizer get TF.js's layout back at sync().

/** "tfjs": every weight as TF.js keeps it; "onnx": 4-D conv kernels OIHW. */
export type WeightLayoutMode = "tfjs" | "onnx";

const HWIO_TO_OIHW = [3, 2, 0, 1];

/** The permutation of its TF.js layout a weight is fed in, or null (as TF.js keeps it). */
export function weightLayout(weight: { name: string; shape: number[] }, mode: WeightLayoutMode = "tfjs"): number[] | null {
  return mode === "onnx" && weight.shape.length === 4 && weight.name.endsWith("/kernel") ? HWIO_TO_OIHW : null;
}

/** The inverse permutation. */
export function inversePermutation(perm: number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((axis, i) => (inverse[axis] = i));
  return inverse;
}

/** `values` of `shape` with its axes permuted (output axis i is input axis perm[i]). */
export function transposeValues(values: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, stride = 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  const outShape = perm.map((axis) => shape[axis]);
  const outStrides = perm.map((axis) => strides[axis]);
  const out = new Float32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let source = 0;
    for (let i = 0; i < rank; i++) source += index[i] * outStrides[i];
    out[o] = values[source];
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < outShape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}
