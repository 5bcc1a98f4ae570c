// Padding and cropping of an NHWC tensor's H and W axes, as whole-row copies. PyTorch-padded
// stride-2 convs and max pools pad their input (graph/layers/common.ts tfWindowPadding) and
// their gradient crops it again; TF.js's WASM PadV2 and Slice walk the tensor element by element
// (a [4,80,80,32] crop took ~20 ms, a row copy ~1).

type Pairs = [number, number][];

/** True when only H and W (axes 1 and 2 of a 4-D tensor) are padded. */
export function padsSpatiallyOnly(shape: number[], paddings: Pairs): boolean {
  return shape.length === 4 && paddings.length === 4 && [0, 3].every((axis) => paddings[axis][0] === 0 && paddings[axis][1] === 0);
}

/** out = x [N, H, W, C] padded by [[top, bottom], [left, right]] on H and W with `value`. */
export function padSpatialInto(out: Float32Array, x: Float32Array, shape: number[], [top, bottom]: [number, number], [left, right]: [number, number], value: number): void {
  const [n, h, w, c] = shape;
  const rowValues = w * c;
  const [outH, outW] = [h + top + bottom, w + left + right];
  out.fill(value);
  for (let image = 0; image < n; image++) {
    for (let row = 0; row < h; row++) {
      const source = (image * h + row) * rowValues;
      out.set(x.subarray(source, source + rowValues), ((image * outH + row + top) * outW + left) * c);
    }
  }
}

/** True when a 4-D slice keeps the channel axis whole (the rows it copies are contiguous runs). */
export function slicesWholeChannels(shape: number[], begin: number[], size: number[]): boolean {
  return shape.length === 4 && begin[3] === 0 && size[3] === shape[3];
}

/** out = x[n0 : n0+sn, h0 : h0+sh, w0 : w0+sw, :] for x [N, H, W, C]. */
export function sliceSpatialInto(out: Float32Array, x: Float32Array, shape: number[], begin: number[], size: number[]): void {
  const [, h, w, c] = shape;
  const run = size[2] * c;
  let o = 0;
  for (let image = begin[0]; image < begin[0] + size[0]; image++) {
    for (let row = begin[1]; row < begin[1] + size[1]; row++) {
      const source = ((image * h + row) * w + begin[2]) * c;
      out.set(x.subarray(source, source + run), o);
      o += run;
    }
  }
}
