import { AttributeType, encodeModel, TensorDataType } from "./onnx-proto";
import type { AttributeProtoData, NodeProtoData, TensorProtoData, ValueInfoProtoData } from "./onnx-proto";

/** How weights are stored: fp32; fp16 (FLOAT16 initialisers cast to float); int8 (INT8 + DequantizeLinear). */
export type WeightPrecision = "fp32" | "fp16" | "int8";

/** A float attribute (plain numbers are INT attributes, so that `axis: 1` stays an int). */
export class OnnxFloat {
  constructor(public value: number) {}
}
export const onnxFloat = (value: number) => new OnnxFloat(value);

export type OnnxAttribute = number | number[] | string | OnnxFloat | { floats: number[] };

export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array | Uint16Array;

export interface OnnxGraphOptions {
  precision?: WeightPrecision;
  /** int8 only: one scale per output channel (default) or one per tensor. */
  int8PerChannel?: boolean;
}

export interface OnnxModelInfo {
  opset: number;
  metadata?: Record<string, string>;
  graphName?: string;
  producerName?: string;
  producerVersion?: string;
  /** Operator sets beyond ONNX's own that nodes use (addNode's `domain`), e.g. ONNX Runtime's internal ones. */
  extraOpsets?: { domain: string; version: number }[];
}

function elementType(values: TensorData): number {
  if (values instanceof Float32Array) return TensorDataType.FLOAT;
  if (values instanceof Int8Array) return TensorDataType.INT8;
  if (values instanceof Uint8Array) return TensorDataType.UINT8;
  if (values instanceof Int32Array) return TensorDataType.INT32;
  if (values instanceof BigInt64Array) return TensorDataType.INT64;
  return TensorDataType.FLOAT16;
}

/** IEEE 754 binary16 bits of a float32, round-to-nearest-even, with overflow to ±Inf. */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half++;
  return sign | half;
}

function attribute(name: string, value: OnnxAttribute): AttributeProtoData {
  if (value instanceof OnnxFloat) return { name, type: AttributeType.FLOAT, f: value.value };
  if (typeof value === "number") return { name, type: AttributeType.INT, i: value };
  if (typeof value === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

function valueInfo(name: string, dims: (number | string)[], elemType: number): ValueInfoProtoData {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

// ONNX IR version that goes with each opset (onnx/helper.py VERSION_TABLE).
const IR_VERSION_FOR_OPSET: Record<number, number> = { 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8 };

/**
 * A small ONNX graph builder. Tensors are referred to by name; every name it hands out is
 * unique. Layer definitions and the detection head use it to emit their nodes.
 */
export class OnnxGraph {
  readonly precision: WeightPrecision;
  readonly int8PerChannel: boolean;
  private readonly nodes: NodeProtoData[] = [];
  private readonly initializers: TensorProtoData[] = [];
  private readonly inputs: ValueInfoProtoData[] = [];
  private readonly outputs: ValueInfoProtoData[] = [];
  private readonly usedNames = new Set<string>();

  constructor(options: OnnxGraphOptions = {}) {
    this.precision = options.precision ?? "fp32";
    this.int8PerChannel = options.int8PerChannel ?? true;
  }

  /** `base` if unused, else `base_1`, `base_2`, … */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  /** Adds a node; returns its output tensor names (`outputs` = count or explicit names). */
  addNode(
    opType: string,
    inputs: string[],
    attributes: Record<string, OnnxAttribute> = {},
    options: { name?: string; outputs?: number | string[]; domain?: string } = {},
  ): string[] {
    const name = this.uniqueName(options.name ?? opType);
    const requested = options.outputs ?? 1;
    const outputs =
      typeof requested === "number"
        ? Array.from({ length: requested }, (_, i) => this.uniqueName(requested === 1 ? `${name}_out` : `${name}_out${i}`))
        : requested.map((n) => this.claim(n));
    this.nodes.push({
      name,
      op_type: opType,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      ...(options.domain ? { domain: options.domain } : {}),
    });
    return outputs;
  }

  /** Adds a single-output node and returns the output name. */
  op(opType: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}, name?: string): string {
    return this.addNode(opType, inputs, attributes, { name })[0];
  }

  /** Adds a constant tensor stored as-is (Uint16Array = fp16 bits). Returns its (unique) name. */
  addInitializer(base: string, values: TensorData, dims: number[]): string {
    const name = this.uniqueName(base);
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
    this.initializers.push({ name, dims, data_type: elementType(values), raw_data: bytes });
    return name;
  }

  constInt64(base: string, values: number[]): string {
    return this.addInitializer(base, BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  constFloat(base: string, values: number[], dims: number[] = [values.length]): string {
    return this.addInitializer(base, Float32Array.from(values), dims);
  }

  /**
   * Adds a trained weight in the graph's precision and returns the name of a float tensor
   * holding it. `quantizeAxis` marks kernels that int8 may quantise (per channel along that
   * axis); weights without it (biases, BatchNorm) stay float.
   */
  addWeight(base: string, values: Float32Array, dims: number[], options: { quantizeAxis?: number } = {}): string {
    if (this.precision === "fp16") {
      const half = Uint16Array.from(values, float32ToFloat16Bits);
      const stored = this.addInitializer(`${base}_fp16`, half, dims);
      return this.op("Cast", [stored], { to: TensorDataType.FLOAT }, `${base}_cast`);
    }
    if (this.precision === "int8" && options.quantizeAxis !== undefined) {
      return this.addQuantizedWeight(base, values, dims, options.quantizeAxis);
    }
    return this.addInitializer(base, values, dims);
  }

  private addQuantizedWeight(base: string, values: Float32Array, dims: number[], axis: number): string {
    const channels = this.int8PerChannel ? dims[axis] : 1;
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const channelOf = (index: number) => (channels === 1 ? 0 : Math.floor(index / inner) % channels);
    const maxAbs = new Float32Array(channels);
    values.forEach((v, i) => {
      const c = channelOf(i);
      maxAbs[c] = Math.max(maxAbs[c], Math.abs(v));
    });
    // Symmetric quantisation: zero point 0, [-127, 127] so that -x and x stay symmetric.
    const scales = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
    const quantized = Int8Array.from(values, (v, i) => Math.max(-127, Math.min(127, Math.round(v / scales[channelOf(i)]))));
    const q = this.addInitializer(`${base}_int8`, quantized, dims);
    const scaleDims = this.int8PerChannel ? [channels] : [];
    const scale = this.addInitializer(`${base}_scale`, scales, scaleDims);
    const zeroPoint = this.addInitializer(`${base}_zero_point`, new Int8Array(channels), scaleDims);
    const attributes: Record<string, OnnxAttribute> = this.int8PerChannel ? { axis } : {};
    return this.op("DequantizeLinear", [q, scale, zeroPoint], attributes, `${base}_dequantize`);
  }

  addInput(name: string, dims: (number | string)[], elemType: number = TensorDataType.FLOAT): string {
    this.inputs.push(valueInfo(this.claim(name), dims, elemType));
    return name;
  }

  /** Declares the tensor `name` (produced by an existing node) a graph output. */
  addOutput(name: string, dims: (number | string)[], elemType: number = TensorDataType.FLOAT): void {
    this.outputs.push(valueInfo(name, dims, elemType));
  }

  /** Serialises the model. Throws for an opset outside 12..17. */
  toBytes(info: OnnxModelInfo): Uint8Array {
    const irVersion = IR_VERSION_FOR_OPSET[info.opset];
    if (irVersion === undefined) {
      throw new Error(`ONNX opset ${info.opset} is not supported; choose one of ${Object.keys(IR_VERSION_FOR_OPSET).join(", ")}`);
    }
    return encodeModel({
      ir_version: irVersion,
      opset_import: [{ domain: "", version: info.opset }, ...(info.extraOpsets ?? [])],
      producer_name: info.producerName ?? "training-studio",
      producer_version: info.producerVersion ?? "0.1.0",
      graph: {
        name: info.graphName ?? "model",
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadata_props: Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`ONNX tensor name "${name}" is already used`);
    this.usedNames.add(name);
    return name;
  }
}

export const SUPPORTED_OPSETS = Object.keys(IR_VERSION_FOR_OPSET).map(Number);
