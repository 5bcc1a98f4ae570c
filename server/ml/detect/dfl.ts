// Anchor grid and Distribution Focal Loss (DFL) box decoding on plain typed arrays.
// The raw head output of our YOLOv8 graphs is, per image, [anchors, 4*regMax + nc] (levels stride 8, 16, 32
// concatenated, each level row-major over its grid). Decoded outputs use Ultralytics' export layout
// [4 + nc, anchors]: xywh in input pixels, then sigmoid class scores.

export const DEFAULT_STRIDES = [8, 16, 32] as const;
export const REG_MAX = 16;

export interface AnchorGrid {
  /** Anchor centres in grid units of their level (cell centre = index + 0.5), interleaved x,y. */
  points: Float32Array;
  /** Stride of each anchor's level, in input pixels. */
  strides: Float32Array;
  count: number;
}

export function makeAnchors(height: number, width: number, strides: readonly number[] = DEFAULT_STRIDES): AnchorGrid {
  let count = 0;
  for (const s of strides) {
    if (height % s !== 0 || width % s !== 0) throw new Error(`image size ${height}x${width} is not a multiple of stride ${s}`);
    count += (height / s) * (width / s);
  }
  const points = new Float32Array(count * 2);
  const strideOf = new Float32Array(count);
  let a = 0;
  for (const s of strides) {
    const gh = height / s;
    const gw = width / s;
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++, a++) {
        points[2 * a] = x + 0.5;
        points[2 * a + 1] = y + 0.5;
        strideOf[a] = s;
      }
    }
  }
  return { points, strides: strideOf, count };
}

/** Expected bin index under softmax(logits[offset .. offset+regMax)). */
export function dflExpectation(logits: ArrayLike<number>, offset: number, regMax = REG_MAX): number {
  let max = -Infinity;
  for (let i = 0; i < regMax; i++) max = Math.max(max, logits[offset + i]);
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < regMax; i++) {
    const e = Math.exp(logits[offset + i] - max);
    sum += e;
    weighted += e * i;
  }
  return weighted / sum;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * Decode raw head outputs [batch, anchors, 4*regMax + nc] into [batch, 4 + nc, anchors]
 * (xywh in input pixels, sigmoid class scores) — the same tensor an Ultralytics YOLOv8 ONNX export returns.
 */
export function decodeRawOutput(
  raw: Float32Array,
  opts: { batch: number; numClasses: number; grid: AnchorGrid; regMax?: number },
): Float32Array {
  const { batch, numClasses: nc, grid } = opts;
  const regMax = opts.regMax ?? REG_MAX;
  const channels = 4 * regMax + nc;
  const anchors = grid.count;
  if (raw.length !== batch * anchors * channels) {
    throw new Error(`raw detection output has ${raw.length} values, expected ${batch}x${anchors}x${channels}`);
  }
  const out = new Float32Array(batch * (4 + nc) * anchors);
  for (let b = 0; b < batch; b++) {
    const outBase = b * (4 + nc) * anchors;
    for (let a = 0; a < anchors; a++) {
      const row = (b * anchors + a) * channels;
      const left = dflExpectation(raw, row, regMax);
      const top = dflExpectation(raw, row + regMax, regMax);
      const right = dflExpectation(raw, row + 2 * regMax, regMax);
      const bottom = dflExpectation(raw, row + 3 * regMax, regMax);
      const s = grid.strides[a];
      const px = grid.points[2 * a];
      const py = grid.points[2 * a + 1];
      out[outBase + a] = (px + (right - left) / 2) * s;
      out[outBase + anchors + a] = (py + (bottom - top) / 2) * s;
      out[outBase + 2 * anchors + a] = (left + right) * s;
      out[outBase + 3 * anchors + a] = (top + bottom) * s;
      for (let c = 0; c < nc; c++) out[outBase + (4 + c) * anchors + a] = sigmoid(raw[row + 4 * regMax + c]);
    }
  }
  return out;
}
