import { UnreadableWeightsError } from "./errors";
import type { TorchDtype, TorchTensor } from "./unpickler";

// A PyTorch storage's bytes as typed arrays, and a tensor's view of them as contiguous values.

/** fp16 and bf16 become Float32Array; bool becomes Uint8Array (0/1). */
export type TensorValues = Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface LoadedTensor {
  /** The dtype stored in the file. */
  dtype: TorchDtype;
  shape: number[];
  /** Row-major (contiguous) values. */
  data: TensorValues;
}

export const ITEM_BYTES: Record<TorchDtype, number> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

function halfBitsToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

let halfTable: Float32Array | null = null;
/** Every float16 bit pattern's value (256 KB), so widening a storage is one lookup per element. */
function halfToFloatTable(): Float32Array {
  halfTable ??= Float32Array.from({ length: 65536 }, (_, bits) => halfBitsToFloat(bits));
  return halfTable;
}

/** The storage's elements as a typed array (fp16/bf16 widened to float32). */
export function storageValues(bytes: Uint8Array, dtype: TorchDtype, count: number, bigEndian: boolean): TensorValues {
  const width = ITEM_BYTES[dtype];
  const length = count * width;
  // readEntry's buffers are fresh and exact, so this copies only for a storage with trailing bytes.
  const buffer = bytes.byteOffset === 0 && bytes.buffer.byteLength === length ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + length);
  if (bigEndian && width > 1) {
    const view = new Uint8Array(buffer);
    for (let i = 0; i < view.length; i += width) view.subarray(i, i + width).reverse();
  }
  switch (dtype) {
    case "float64":
      return new Float64Array(buffer);
    case "float32":
      return new Float32Array(buffer);
    case "float16": {
      const table = halfToFloatTable();
      const halves = new Uint16Array(buffer);
      const widened = new Float32Array(count);
      for (let i = 0; i < count; i++) widened[i] = table[halves[i]];
      return widened;
    }
    case "bfloat16": {
      // bfloat16 is the upper half of a float32.
      const widened = new Uint32Array(count);
      const halves = new Uint16Array(buffer);
      for (let i = 0; i < count; i++) widened[i] = halves[i] << 16;
      return new Float32Array(widened.buffer);
    }
    case "int64":
      return new BigInt64Array(buffer);
    case "int32":
      return new Int32Array(buffer);
    case "int16":
      return new Int16Array(buffer);
    case "int8":
      return new Int8Array(buffer);
    case "uint8":
    case "bool":
      return new Uint8Array(buffer);
  }
}

/** The view `storage[offset + Σ index·stride]` as a contiguous array. */
export function gather(values: TensorValues, tensor: TorchTensor): TensorValues {
  const { size, stride, offset } = tensor;
  const count = size.reduce((a, b) => a * b, 1);
  if (count === 0) return values.slice(0, 0);
  const last = offset + size.reduce((sum, n, axis) => sum + (n - 1) * stride[axis], 0);
  if (offset < 0 || stride.some((s) => s < 0) || last >= values.length) {
    throw new UnreadableWeightsError(`a tensor view [${size}] (offset ${offset}, stride [${stride}]) runs outside its storage of ${values.length} elements`);
  }
  let expected = 1;
  let contiguous = true;
  for (let axis = size.length - 1; axis >= 0; axis--) {
    if (size[axis] !== 1 && stride[axis] !== expected) contiguous = false;
    expected *= size[axis];
  }
  if (contiguous) return offset === 0 && count === values.length ? values : values.slice(offset, offset + count);
  const out = values.slice(0, count);
  const index = new Array<number>(size.length).fill(0);
  let source = offset;
  for (let i = 0; i < count; i++) {
    out[i] = values[source];
    // Advance the multi-index like an odometer, keeping `source` in step.
    for (let axis = size.length - 1; axis >= 0; axis--) {
      source += stride[axis];
      if (++index[axis] < size[axis]) break;
      source -= stride[axis] * size[axis];
      index[axis] = 0;
    }
  }
  return out;
}
