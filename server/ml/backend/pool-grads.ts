// Pooling gradients as single passes over NHWC arrays. They are memory-bound, so a tight
// JavaScript loop over the backend's own memory beats both TF.js versions (WASM's MaxPoolGrad
// took ~55 ms per reference-CNN step, more than the forward convolutions).
import type * as tf from "@tensorflow/tfjs";

type PoolInfo = tf.backend_util.Conv2DInfo;

/**
 * Each output's gradient goes to the first maximum of its window (row-major), like TensorFlow.
 * `y` is the forward MaxPool's output: the 2×2 path finds each window's maximum by equality.
 */
export function maxPoolGradInto(dx: Float32Array, x: Float32Array, y: Float32Array, dy: Float32Array, info: PoolInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  if (fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0) {
    maxPool2x2GradInto(dx, x, y, dy, info);
    return;
  }
  const bestValue = new Float32Array(channels);
  const bestOffset = new Int32Array(channels);
  dx.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      const rowStart = Math.max(0, i * strideHeight - top);
      const rowEnd = Math.min(inHeight, i * strideHeight - top + fh);
      for (let j = 0; j < outWidth; j++) {
        const colStart = Math.max(0, j * strideWidth - left);
        const colEnd = Math.min(inWidth, j * strideWidth - left + fw);
        bestValue.fill(-Infinity);
        bestOffset.fill(-1);
        for (let row = rowStart; row < rowEnd; row++) {
          for (let col = colStart; col < colEnd; col++) {
            const offset = ((n * inHeight + row) * inWidth + col) * channels;
            for (let c = 0; c < channels; c++) {
              const value = x[offset + c];
              if (value > bestValue[c]) {
                bestValue[c] = value;
                bestOffset[c] = offset + c;
              }
            }
          }
        }
        const dyOffset = ((n * outHeight + i) * outWidth + j) * channels;
        for (let c = 0; c < channels; c++) {
          if (bestOffset[c] >= 0) dx[bestOffset[c]] += dy[dyOffset + c];
        }
      }
    }
  }
}

/**
 * The common 2×2/stride-2 pool: windows do not overlap, so each gradient lands on one input and
 * the rest stay 0. Comparing with the known maximum (first equal in row-major order, as TF.js's
 * strict ">" picks) branches more predictably than a running maximum: ReLU outputs tie at 0.
 */
function maxPool2x2GradInto(dx: Float32Array, x: Float32Array, y: Float32Array, dy: Float32Array, info: PoolInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const rowStride = inWidth * channels;
  // Zero also covers odd trailing rows/columns, which belong to no window.
  dx.fill(0);
  let d = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      let window = (n * inHeight + 2 * i) * rowStride;
      for (let j = 0; j < outWidth; j++) {
        for (let o = window; o < window + channels; o++) {
          const max = y[d];
          const best = x[o] === max ? o : x[o + channels] === max ? o + channels : x[o + rowStride] === max ? o + rowStride : o + rowStride + channels;
          dx[best] = dy[d++];
        }
        window += 2 * channels;
      }
    }
  }
}

/**
 * Each output's gradient is shared evenly by the input pixels of its window that are inside the
 * image: the forward AvgPool of both backends averages over those only, so this is its exact adjoint.
 */
export function avgPoolGradInto(dx: Float32Array, dy: Float32Array, info: PoolInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  dx.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      const rowStart = Math.max(0, i * strideHeight - top);
      const rowEnd = Math.min(inHeight, i * strideHeight - top + fh);
      for (let j = 0; j < outWidth; j++) {
        const colStart = Math.max(0, j * strideWidth - left);
        const colEnd = Math.min(inWidth, j * strideWidth - left + fw);
        const share = 1 / ((rowEnd - rowStart) * (colEnd - colStart));
        const dyOffset = ((n * outHeight + i) * outWidth + j) * channels;
        for (let row = rowStart; row < rowEnd; row++) {
          for (let col = colStart; col < colEnd; col++) {
            const offset = ((n * inHeight + row) * inWidth + col) * channels;
            for (let c = 0; c < channels; c++) dx[offset + c] += dy[dyOffset + c] * share;
          }
        }
      }
    }
  }
}
