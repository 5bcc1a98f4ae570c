// Pooling gradients as single passes over NHWC arrays. They are memory-bound, so a tight
// JavaScript loop over the backend's own memory beats both TF.js versions (WASM's MaxPoolGrad
// took ~55 ms per reference-CNN step, more than the forward convolutions).
import type * as tf from "@tensorflow/tfjs";

type PoolInfo = tf.backend_util.Conv2DInfo;

/** Each output's gradient goes to the first maximum of its window (row-major), like TensorFlow. */
export function maxPoolGradInto(dx: Float32Array, x: Float32Array, dy: Float32Array, info: PoolInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  if (fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0) {
    maxPool2x2GradInto(dx, x, dy, info);
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

/** The common 2×2/stride-2 pool: windows do not overlap, so each input is written exactly once. */
function maxPool2x2GradInto(dx: Float32Array, x: Float32Array, dy: Float32Array, info: PoolInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const rowStride = inWidth * channels;
  // Odd trailing rows/columns belong to no window.
  if (inHeight !== outHeight * 2 || inWidth !== outWidth * 2) dx.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const o0 = ((n * inHeight + 2 * i) * inWidth + 2 * j) * channels;
        const o1 = o0 + channels;
        const o2 = o0 + rowStride;
        const o3 = o2 + channels;
        const dyOffset = ((n * outHeight + i) * outWidth + j) * channels;
        for (let c = 0; c < channels; c++) {
          const v0 = x[o0 + c];
          const v1 = x[o1 + c];
          const v2 = x[o2 + c];
          const v3 = x[o3 + c];
          const g = dy[dyOffset + c];
          // The first maximum in row-major order wins ties, like the strict ">" of TF.js.
          let best = 0;
          let bestValue = v0;
          if (v1 > bestValue) {
            best = 1;
            bestValue = v1;
          }
          if (v2 > bestValue) {
            best = 2;
            bestValue = v2;
          }
          if (v3 > bestValue) best = 3;
          dx[o0 + c] = best === 0 ? g : 0;
          dx[o1 + c] = best === 1 ? g : 0;
          dx[o2 + c] = best === 2 ? g : 0;
          dx[o3 + c] = best === 3 ? g : 0;
        }
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
