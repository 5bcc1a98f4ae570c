// Faster kernels for TF.js's plain-JavaScript CPU backend. Its Conv2DBackpropFilter reads every
// element through TensorBuffer.get (index arithmetic per access) and takes ~95% of a training step.
import * as tf from "@tensorflow/tfjs";
import { assertChannelsLast, convInfoFor, type ConvGradAttrs } from "./conv-grads";

interface CpuBackendData {
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

function values(backend: CpuBackendData, info: tf.TensorInfo): Float32Array {
  return backend.data.get(info.dataId).values as Float32Array;
}

/**
 * dW[a,b,ci,co] = Σ x[n, i·s+a-top, j·s+b-left, ci] · dy[n,i,j,co]: one rank-1 update of the
 * (ci, co) block per output position and filter tap, accumulated in float64 like the original.
 */
export function conv2dBackpropFilterCpu(x: Float32Array, xShape: number[], dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const [batch, inH, inW, inC] = xShape;
  const { outHeight, outWidth, outChannels: outC, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const dW = new Float64Array(kh * kw * inC * outC);
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const dyOffset = ((n * outHeight + i) * outWidth + j) * outC;
        for (let a = 0; a < kh; a++) {
          const row = i * sh + a - top;
          if (row < 0 || row >= inH) continue;
          for (let b = 0; b < kw; b++) {
            const col = j * sw + b - left;
            if (col < 0 || col >= inW) continue;
            const xOffset = ((n * inH + row) * inW + col) * inC;
            const tapOffset = (a * kw + b) * inC * outC;
            for (let ci = 0; ci < inC; ci++) {
              const xv = x[xOffset + ci];
              if (xv === 0) continue;
              const base = tapOffset + ci * outC;
              for (let co = 0; co < outC; co++) dW[base + co] += xv * dy[dyOffset + co];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(dW);
}

export function cpuKernels(): tf.KernelConfig[] {
  return [
    {
      kernelName: "Conv2DBackpropFilter",
      backendName: "cpu",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
        const a = attrs as unknown as ConvGradAttrs & { filterShape: number[] };
        assertChannelsLast("Conv2DBackpropFilter", a.dataFormat);
        const cpu = backend as unknown as CpuBackendData;
        const info = convInfoFor(x.shape, a.filterShape, a);
        const dW = conv2dBackpropFilterCpu(values(cpu, x), x.shape, values(cpu, dy), info);
        return cpu.makeTensorInfo(a.filterShape, "float32", dW);
      },
    },
  ];
}
