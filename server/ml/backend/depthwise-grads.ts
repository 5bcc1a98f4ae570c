// Depthwise-convolution gradients as direct loops over NHWC arrays. A depthwise layer does few
// multiply-adds per element, so a single JavaScript pass is cheap next to the convolutions, and no
// composition of forward kernels avoids wasting work on the cross-channel terms.
import type * as tf from "@tensorflow/tfjs";

type ConvInfo = tf.backend_util.Conv2DInfo;

/** dW[a,b,c,k] = Σ_{n,i,j} x[n, i·s+a·d-top, j·s+b·d-left, c] · dy[n,i,j,c·m+k], accumulated in float64. */
export function depthwiseBackpropFilter(x: Float32Array, dy: Float32Array, info: ConvInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, outChannels } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const multiplier = outChannels / channels;
  const dW = new Float64Array(kh * kw * channels * multiplier);
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const dyOffset = ((n * outHeight + i) * outWidth + j) * outChannels;
        for (let a = 0; a < kh; a++) {
          const row = i * sh + a * dh - top;
          if (row < 0 || row >= inHeight) continue;
          for (let b = 0; b < kw; b++) {
            const col = j * sw + b * dw - left;
            if (col < 0 || col >= inWidth) continue;
            const xOffset = ((n * inHeight + row) * inWidth + col) * channels;
            const tapOffset = (a * kw + b) * outChannels;
            for (let c = 0; c < channels; c++) {
              const xv = x[xOffset + c];
              for (let k = 0; k < multiplier; k++) dW[tapOffset + c * multiplier + k] += xv * dy[dyOffset + c * multiplier + k];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(dW);
}

/** dx[n,row,col,c] = Σ over the outputs reading (row, col) of Σ_k dy[…, c·m+k] · W[a,b,c,k]. */
export function depthwiseBackpropInputInto(dx: Float32Array, dy: Float32Array, filter: Float32Array, info: ConvInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, outChannels } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const multiplier = outChannels / channels;
  dx.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const dyOffset = ((n * outHeight + i) * outWidth + j) * outChannels;
        for (let a = 0; a < kh; a++) {
          const row = i * sh + a * dh - top;
          if (row < 0 || row >= inHeight) continue;
          for (let b = 0; b < kw; b++) {
            const col = j * sw + b * dw - left;
            if (col < 0 || col >= inWidth) continue;
            const dxOffset = ((n * inHeight + row) * inWidth + col) * channels;
            const tapOffset = (a * kw + b) * outChannels;
            if (multiplier === 1) {
              for (let c = 0; c < channels; c++) dx[dxOffset + c] += dy[dyOffset + c] * filter[tapOffset + c];
            } else {
              for (let c = 0; c < channels; c++) {
                let sum = 0;
                for (let k = 0; k < multiplier; k++) sum += dy[dyOffset + c * multiplier + k] * filter[tapOffset + c * multiplier + k];
                dx[dxOffset + c] += sum;
              }
            }
          }
        }
      }
    }
  }
}
