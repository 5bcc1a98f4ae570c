// im2col for convolution filter gradients, written straight into WASM memory.
import type * as tf from "@tensorflow/tfjs";

/**
 * Writes the transposed im2col matrix of images [first, first + count) into `memory` at `out`:
 * row (a·kw + b)·Ci + ci (the filter's [kh, kw, Ci] order) holds, for every output position
 * (n, i, j) in row-major order, x[n, i·sh + a - top, j·sw + b - left, ci], or 0 in the padding.
 * Then dW[kh·kw·Ci, Co] = columns · dy[N·oH·oW, Co] is one plain GEMM.
 *
 * `x` is the input in channel-major order [Ci, N, H, W] (a cheap WASM transpose), so that an
 * output row reads input rows. Both live in one memory: copyWithin moves whole runs without
 * allocating, which matters at ~10^5 runs per call.
 */
export function im2colTransposedInto(memory: Float32Array, out: number, x: number, info: tf.backend_util.Conv2DInfo, first: number, count: number): void {
  const { batchSize, inHeight: inH, inWidth: inW, inChannels: inC, outHeight: outH, outWidth: outW, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  // Stride 1 with outW = inW ("same"): input rows i..i+k are adjacent like output rows, so the
  // valid rows of one image form a single run; only the columns that wrap around get zeroed.
  const rowsAreRuns = sh === 1 && sw === 1 && outW === inW;
  let p = out;
  for (let a = 0; a < kh; a++) {
    // Output rows i whose input row i·sh + a - top lies inside the image.
    const iStart = Math.min(outH, Math.max(0, Math.ceil((top - a) / sh)));
    const iEnd = Math.max(iStart, Math.min(outH, Math.floor((inH - 1 + top - a) / sh) + 1));
    for (let b = 0; b < kw; b++) {
      const jStart = Math.min(outW, Math.max(0, Math.ceil((left - b) / sw)));
      const jEnd = Math.max(jStart, Math.min(outW, Math.floor((inW - 1 + left - b) / sw) + 1));
      for (let ci = 0; ci < inC; ci++) {
        for (let n = first; n < first + count; n++) {
          const image = x + (ci * batchSize + n) * inH * inW;
          memory.fill(0, p, p + iStart * outW);
          if (rowsAreRuns && iEnd > iStart) {
            const runStart = p + iStart * outW + jStart;
            const runLength = (iEnd - iStart) * outW - jStart - (outW - jEnd);
            const source = image + (iStart + a - top) * inW + jStart + b - left;
            memory.copyWithin(runStart, source, source + runLength);
            for (let i = iStart; i < iEnd; i++) {
              const rowStart = p + i * outW;
              if (jStart > 0) memory.fill(0, rowStart, rowStart + jStart);
              if (jEnd < outW) memory.fill(0, rowStart + jEnd, rowStart + outW);
            }
          } else {
            for (let i = iStart; i < iEnd; i++) {
              const rowStart = p + i * outW;
              memory.fill(0, rowStart, rowStart + jStart);
              let source = image + (i * sh + a - top) * inW + jStart * sw + b - left;
              for (let j = rowStart + jStart; j < rowStart + jEnd; j++) {
                memory[j] = memory[source];
                source += sw;
              }
              memory.fill(0, rowStart + jEnd, rowStart + outW);
            }
          }
          memory.fill(0, p + iEnd * outW, p + outH * outW);
          p += outH * outW;
        }
      }
    }
  }
}
