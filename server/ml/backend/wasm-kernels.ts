// Gradient kernels for TF.js's WASM backend, composed of its fast XNNPACK-backed kernels.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { Composer, type TensorInfo } from "./kernel-compose";
import {
  assertChannelsLast,
  conv2dBackpropInputByConv,
  convInfoFor,
  flipFilterInto,
  interleavePhasesInto,
  phaseFilterInto,
  phaseGradients,
  phasesApply,
  phaseTaps,
  type ConvGradAttrs,
} from "./conv-grads";
import { im2colTransposedInto } from "./im2col";
import { avgPoolGradInto, maxPoolGradInto } from "./pool-grads";
import { depthwiseBackpropFilter, depthwiseBackpropInputInto } from "./depthwise-grads";
import { sliceLastAxisInto, slicesLastAxisOnly } from "./last-axis-slice";
import { padSpatialInto, padsSpatiallyOnly, sliceSpatialInto, slicesWholeChannels } from "./spatial-pad";

const WASM = "wasm";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

function kernel(kernelName: string, fn: (c: Composer, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) => TensorInfo): tf.KernelConfig {
  return {
    kernelName,
    backendName: WASM,
    kernelFunc: (args: KernelArgs) => fn(new Composer(args.backend, WASM), args.inputs as Record<string, TensorInfo>, (args.attrs ?? {}) as Record<string, unknown>),
  } as tf.KernelConfig;
}

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

interface PoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

interface DepthwiseGradAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function depthwiseInfoFor(xShape: number[], filterShape: number[], attrs: DepthwiseGradAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

function poolInfoFor(xShape: number[], attrs: PoolGradAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

/** Allocates `shape` on the WASM heap and lets `fill` write it through views of the heap. */
function writeOnHeap(c: Composer, shape: number[], inputs: TensorInfo[], fill: (out: Float32Array, ...inputs: Float32Array[]) => void): TensorInfo {
  const heap = c.backend as unknown as WasmHeapBackend;
  const out = heap.makeOutput(shape, "float32");
  // Views are taken after the allocation, which may have grown (and so replaced) the heap buffer.
  fill(heap.typedArrayFromHeap(out), ...inputs.map((info) => heap.typedArrayFromHeap(info)));
  return out;
}

/** Largest im2col matrix built at once (64 MiB); bigger batches are done in chunks of images. */
const MAX_COLUMN_VALUES = 1 << 24;

/**
 * dW[kh·kw·Ci, Co] = columns · dy[N·oH·oW, Co], with the transposed im2col matrix written by a
 * JavaScript pass over WASM memory and the product one XNNPACK GEMM: faster than expressing dW as
 * a forward convolution (transposes of x and dy, a filter as large as the image), ~2× for a first layer.
 */
export function conv2dBackpropFilterByMatMul(c: Composer, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo, maxColumnValues = MAX_COLUMN_VALUES): TensorInfo {
  const { batchSize, filterHeight: kh, filterWidth: kw, inChannels, outChannels, outHeight, outWidth } = info;
  const heap = c.backend as unknown as WasmHeapBackend;
  const rows = kh * kw * inChannels;
  const positions = outHeight * outWidth;
  const imagesPerChunk = Math.max(1, Math.floor(maxColumnValues / (rows * positions)));
  const channelMajor = c.transpose(x, [3, 0, 1, 2]);
  let sum: TensorInfo | null = null;
  try {
    for (let first = 0; first < batchSize; first += imagesPerChunk) {
      const count = Math.min(imagesPerChunk, batchSize - first);
      const part = c.scoped((temp) => {
        const columns = temp(heap.makeOutput([rows, count * positions], "float32"));
        // Views taken after the allocation, which may have grown (and so replaced) the heap buffer.
        const columnsView = heap.typedArrayFromHeap(columns);
        const memory = new Float32Array(columnsView.buffer);
        im2colTransposedInto(memory, columnsView.byteOffset / 4, heap.typedArrayFromHeap(channelMajor).byteOffset / 4, info, first, count);
        const dyRows =
          count === batchSize
            ? temp(c.reshape(dy, [batchSize * positions, outChannels]))
            : temp(writeOnHeap(c, [count * positions, outChannels], [dy], (out, dyValues) => out.set(dyValues.subarray(first * positions * outChannels, (first + count) * positions * outChannels))));
        return c.matMul(columns, dyRows, false, false);
      });
      if (sum === null) sum = part;
      else {
        const total: TensorInfo = c.add(sum, part);
        c.release(sum, part);
        sum = total;
      }
    }
    return c.reshape(sum!, [kh, kw, inChannels, outChannels]);
  } finally {
    c.release(channelMajor);
    if (sum) c.release(sum);
  }
}

function originalKernel(kernelName: string): tf.KernelConfig | undefined {
  return tf.getKernel(kernelName, WASM);
}

/**
 * Sum over every axis but the last (bias and BatchNorm gradients) in JavaScript, one strided pass
 * per channel with its running total (float64) in a register: ~1.8× faster than ones[1,M]·x[M,C] on
 * XNNPACK, which repacks all of x as GEMM weights on every call, and than one row-major pass
 * accumulating into an array; far faster than WASM's Sum, which transposes x first.
 */
function sumLeadingAxes(c: Composer, x: TensorInfo, keepDims: boolean): TensorInfo {
  const channels = x.shape[x.shape.length - 1];
  const shape = keepDims ? x.shape.map((size, axis) => (axis === x.shape.length - 1 ? size : 1)) : [channels];
  return writeOnHeap(c, shape, [x], (out, values) => {
    const sums = new Float64Array(channels);
    const end = values.length;
    for (let channel = 0; channel < channels; channel++) {
      let total = 0;
      for (let i = channel; i < end; i += channels) total += values[i];
      sums[channel] = total;
    }
    out.set(sums);
  });
}

function isLeadingAxes(axis: number | number[], rank: number): boolean {
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  return rank >= 2 && axes.length === rank - 1 && axes.every((a, index) => a === index);
}

/**
 * True when tiling repeats x whole, one copy after the other: every axis with reps > 1 has size 1
 * and comes before every axis of size > 1 (BatchNorm's gradient tiles [1,1,1,C] to [N,H,W,C]).
 */
function tilesAsRepeatedBlock(shape: number[], reps: number[]): boolean {
  const firstKept = reps.findLastIndex((r) => r > 1) + 1;
  return shape.slice(0, firstKept).every((size) => size === 1);
}

/** Fills `out` with copies of its first `block` values, doubling the copied span each time. */
function repeatBlock(out: Float32Array, block: number): void {
  for (let filled = block; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
}

export function wasmKernels(): tf.KernelConfig[] {
  const originalBackpropInput = originalKernel("Conv2DBackpropInput");
  const originalSum = originalKernel("Sum");
  const originalTile = originalKernel("Tile");
  const originalSlice = originalKernel("Slice");
  const originalPad = originalKernel("PadV2");
  const originalSplitV = originalKernel("SplitV");
  const identity = originalKernel("Identity");
  const originalIdentity = (c: Composer, x: TensorInfo) => {
    if (!identity) throw new Error("Identity: WASM backend kernel missing");
    return identity.kernelFunc({ inputs: { x }, backend: c.backend, attrs: {} }) as TensorInfo;
  };
  return [
    kernel("Conv2DBackpropFilter", (c, { x, dy }, attrs) => {
      const a = attrs as unknown as ConvGradAttrs & { filterShape: number[] };
      assertChannelsLast("Conv2DBackpropFilter", a.dataFormat);
      return conv2dBackpropFilterByMatMul(c, x, dy, convInfoFor(x.shape, a.filterShape, a));
    }),
    kernel("Conv2DBackpropInput", (c, { dy, filter }, attrs) => {
      const a = attrs as unknown as ConvGradAttrs & { inputShape: number[] };
      assertChannelsLast("Conv2DBackpropInput", a.dataFormat);
      const info = convInfoFor(a.inputShape, filter.shape, a);
      // Filters are rearranged in one JavaScript pass: WASM's Reverse and Transpose took ~90 ms for a 3×3×512×512 filter.
      const [kh, kw, inC, outC] = filter.shape;
      if (phasesApply(info)) {
        const s = info.strideHeight;
        return c.scoped((temp) => {
          const phaseFilter = temp(writeOnHeap(c, [phaseTaps(kh, s), phaseTaps(kw, s), outC, s * s * inC], [filter], (out, values) => phaseFilterInto(out, values, filter.shape, s)));
          const phases = temp(phaseGradients(c, dy, phaseFilter, info));
          return writeOnHeap(c, a.inputShape, [phases], (dx, values) => interleavePhasesInto(dx, values, phases.shape, info));
        });
      }
      const flipped = writeOnHeap(c, [kh, kw, outC, inC], [filter], (out, values) => flipFilterInto(out, values, filter.shape));
      const result = c.scoped((temp) => conv2dBackpropInputByConv(c, dy, temp(flipped), info));
      if (result) return result;
      if (!originalBackpropInput) throw new Error("Conv2DBackpropInput: padding larger than the filter and no WASM fallback kernel");
      return originalBackpropInput.kernelFunc({ inputs: { dy, filter }, backend: c.backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    }),
    kernel("MaxPoolGrad", (c, { dy, input, output }, attrs) => {
      const info = poolInfoFor(input.shape, attrs as unknown as PoolGradAttrs);
      return writeOnHeap(c, input.shape, [input, output, dy], (dx, x, y, dyValues) => maxPoolGradInto(dx, x, y, dyValues, info));
    }),
    kernel("AvgPoolGrad", (c, { dy, input }, attrs) => {
      const info = poolInfoFor(input.shape, attrs as unknown as PoolGradAttrs);
      return writeOnHeap(c, input.shape, [dy], (dx, dyValues) => avgPoolGradInto(dx, dyValues, info));
    }),
    kernel("DepthwiseConv2dNativeBackpropFilter", (c, { x, dy }, attrs) => {
      const a = attrs as unknown as DepthwiseGradAttrs & { filterShape: number[] };
      const info = depthwiseInfoFor(x.shape, a.filterShape, a);
      const heap = c.backend as unknown as WasmHeapBackend;
      const dW = depthwiseBackpropFilter(heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(dy), info);
      return writeOnHeap(c, a.filterShape, [], (out) => out.set(dW));
    }),
    kernel("DepthwiseConv2dNativeBackpropInput", (c, { dy, filter }, attrs) => {
      const a = attrs as unknown as DepthwiseGradAttrs & { inputShape: number[] };
      const info = depthwiseInfoFor(a.inputShape, filter.shape, a);
      return writeOnHeap(c, a.inputShape, [dy, filter], (dx, dyValues, filterValues) => depthwiseBackpropInputInto(dx, dyValues, filterValues, info));
    }),
    // WASM's Identity copies the values; sharing them (like Reshape, and the CPU backend's Identity)
    // is safe because kernels never write into their inputs. Gradient tapes call it often.
    kernel("Identity", (c, { x }) => (x.dtype === "string" ? originalIdentity(c, x) : c.reshape(x, x.shape))),
    // WASM's Tile walks every output element (~25 ms for a BatchNorm gradient in ResNet-18); memory copies do it in ~1.
    kernel("Tile", (c, { x }, attrs) => {
      const { reps } = attrs as { reps: number[] };
      const size = x.shape.reduce((a, b) => a * b, 1);
      if (x.dtype === "float32" && size > 0 && tilesAsRepeatedBlock(x.shape, reps)) {
        return writeOnHeap(c, x.shape.map((d, i) => d * reps[i]), [x], (out, values) => {
          out.set(values);
          repeatBlock(out, size);
        });
      }
      if (!originalTile) throw new Error("Tile: WASM backend kernel missing");
      return originalTile.kernelFunc({ inputs: { x }, backend: c.backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    }),
    kernel("Slice", (c, { x }, attrs) => {
      const { begin, size } = attrs as { begin: number | number[]; size: number | number[] };
      const [begins, sizes] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, begin, size);
      if (x.dtype === "float32" && slicesLastAxisOnly(x.shape, begins, sizes)) {
        const channels = x.shape[x.shape.length - 1];
        return writeOnHeap(c, sizes, [x], (out, values) => sliceLastAxisInto(out, values, channels, begins[begins.length - 1], sizes[sizes.length - 1]));
      }
      if (x.dtype === "float32" && slicesWholeChannels(x.shape, begins, sizes)) {
        return writeOnHeap(c, sizes, [x], (out, values) => sliceSpatialInto(out, values, x.shape, begins, sizes));
      }
      if (!originalSlice) throw new Error("Slice: WASM backend kernel missing");
      return originalSlice.kernelFunc({ inputs: { x }, backend: c.backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    }),
    // PyTorch's padding of stride-2 convs and max pools (its gradient is the Slice above).
    kernel("PadV2", (c, { x }, attrs) => {
      const { paddings, constantValue } = attrs as { paddings: [number, number][]; constantValue: number };
      if (x.dtype === "float32" && padsSpatiallyOnly(x.shape, paddings)) {
        const shape = x.shape.map((size, axis) => size + paddings[axis][0] + paddings[axis][1]);
        return writeOnHeap(c, shape, [x], (out, values) => padSpatialInto(out, values, x.shape, paddings[1], paddings[2], constantValue));
      }
      if (!originalPad) throw new Error("PadV2: WASM backend kernel missing");
      return originalPad.kernelFunc({ inputs: { x }, backend: c.backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    }),
    // The gradient of every channel Concat (C2f, SPPF, the neck).
    {
      kernelName: "SplitV",
      backendName: WASM,
      kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
        const x = inputs.x as TensorInfo;
        const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
        const last = x.shape.length - 1;
        if (x.dtype !== "float32" || tf.util.parseAxisParam(axis, x.shape)[0] !== last || last < 1) {
          if (!originalSplitV) throw new Error("SplitV: WASM backend kernel missing");
          return originalSplitV.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo[];
        }
        const c = new Composer(backend, WASM);
        const channels = x.shape[last];
        let begin = 0;
        return tf.backend_util.prepareSplitSize(x as tf.TensorInfo as tf.Tensor, numOrSizeSplits, last).map((size) => {
          const first = begin;
          begin += size;
          return writeOnHeap(c, [...x.shape.slice(0, -1), size], [x], (out, values) => sliceLastAxisInto(out, values, channels, first, size));
        });
      },
    } as tf.KernelConfig,
    kernel("Sum", (c, { x }, attrs) => {
      const { axis, keepDims } = attrs as { axis: number | number[]; keepDims: boolean };
      const size = x.shape.reduce((a, b) => a * b, 1);
      if (x.dtype === "float32" && size > 0 && isLeadingAxes(axis, x.shape.length)) return sumLeadingAxes(c, x, keepDims);
      if (!originalSum) throw new Error("Sum: WASM backend kernel missing");
      return originalSum.kernelFunc({ inputs: { x }, backend: c.backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    }),
  ];
}
