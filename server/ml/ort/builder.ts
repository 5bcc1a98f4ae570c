// Training graphs as a list of ONNX nodes, written out through the exporter's OnnxGraph (protobuf
// writing stays in export/). Deduplicated constants, opset-17 reductions, named inputs and outputs.
import { onnxFloat, OnnxGraph, type OnnxAttribute, type TensorData } from "../export/onnx-graph";
import { TensorDataType } from "../export/onnx-proto";

/** ONNX Runtime's blocked-layout CPU kernels (com.microsoft.nchwc, version 1): ReorderInput/Output, Conv. */
export const NCHWC_DOMAIN = "com.microsoft.nchwc";

/** ONNX TensorProto.BOOL (the exporter never writes one). */
const BOOL = 9;

/** The opset training graphs are written in (ReduceMean/ReduceSumSquare take axes as attributes; ReduceSum as input). */
export const TRAIN_OPSET = 17;

/** A tensor of the training graph with its full shape (NCHW for images, batch first). */
export interface Value {
  name: string;
  shape: number[];
}

interface NodeRecord {
  type: string;
  /** ONNX Runtime's internal operator set the op belongs to (NCHWC_DOMAIN), else ONNX's own. */
  domain?: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
  name: string;
}

interface Port {
  name: string;
  dims: (number | string)[];
  elemType: number;
}

/** Element types of node outputs that are not float (everything else the emitters write is). */
const INT64_OUTPUTS: Record<string, number[]> = { MaxPool: [1], ArgMax: [0], Shape: [0] };
const BOOL_OPS = new Set(["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Not"]);

export class TrainGraph {
  private readonly nodes: NodeRecord[] = [];
  private readonly initializers = new Map<string, { values: TensorData; dims: number[] }>();
  private readonly constants = new Map<string, string>();
  private readonly graphInputs: Port[] = [];
  private readonly graphOutputs: Port[] = [];
  private readonly names = new Set<string>();
  private readonly elemTypes = new Map<string, number>();
  /** Prefix of node names, so a graph dump says which layer emitted what. */
  scope = "g";

  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`training graph tensor name "${name}" is already used`);
    this.names.add(name);
    return name;
  }

  op(type: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}): string {
    return this.ops(type, inputs, 1, attributes)[0];
  }

  ops(type: string, inputs: string[], outputs: number, attributes: Record<string, OnnxAttribute> = {}, domain?: string): string[] {
    const name = this.unique(`${this.scope}.${type}`);
    const names = Array.from({ length: outputs }, (_, i) => this.unique(outputs === 1 ? `${name}_out` : `${name}_out${i}`));
    this.record(type, inputs, names, attributes, name, domain);
    return names;
  }

  /** A single-output op of ONNX Runtime's NCHWc operator set. */
  nchwcOp(type: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}): string {
    return this.ops(type, inputs, 1, attributes, NCHWC_DOMAIN)[0];
  }

  private record(type: string, inputs: string[], outputs: string[], attributes: Record<string, OnnxAttribute>, name: string, domain?: string): void {
    this.nodes.push({ type, inputs, outputs, attributes, name, ...(domain ? { domain } : {}) });
    outputs.forEach((output, i) => {
      if (INT64_OUTPUTS[type]?.includes(i)) this.elemTypes.set(output, TensorDataType.INT64);
      else if (BOOL_OPS.has(type)) this.elemTypes.set(output, BOOL);
      else if (type === "Cast") this.elemTypes.set(output, attributes.to as number);
    });
  }

  private constant(key: string, base: string, values: TensorData, dims: number[]): string {
    let name = this.constants.get(key);
    if (!name) {
      name = this.unique(base);
      this.initializers.set(name, { values, dims });
      this.constants.set(key, name);
    }
    return name;
  }

  /** An int64 vector constant (shared by every use of the same values). */
  i64(values: number[]): string {
    return this.constant(`i64:${values.join(",")}`, "c_i64", BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /** A float32 scalar constant (shared). */
  f32(value: number): string {
    return this.constant(`f32:${Math.fround(value)}`, "c_f32", Float32Array.of(value), []);
  }

  /** A float32 tensor constant (shared). */
  f32Tensor(values: ArrayLike<number>, dims: number[]): string {
    return this.constant(`f32t:${dims.join("x")}:${Array.from(values).join(",")}`, "c_f32t", Float32Array.from(values), dims);
  }

  /** A graph input; a string dimension is symbolic (its size comes with each run's feed). */
  input(name: string, dims: (number | string)[], elemType: number = TensorDataType.FLOAT): string {
    this.graphInputs.push({ name: this.claim(name), dims, elemType });
    return name;
  }

  /** Makes `tensor` a graph output called `name` (through an Identity, so outputs never alias inputs). */
  output(name: string, tensor: string, dims: number[]): string {
    this.record("Identity", [tensor], [this.claim(name)], {}, this.unique(`out.${name}`));
    this.graphOutputs.push({ name, dims, elemType: this.elemTypes.get(tensor) ?? TensorDataType.FLOAT });
    return name;
  }

  get inputs(): readonly string[] {
    return this.graphInputs.map((i) => i.name);
  }

  get outputs(): readonly string[] {
    return this.graphOutputs.map((o) => o.name);
  }

  // ---- shorthands used by the emitters
  reshape(x: string, dims: number[]): string {
    return this.op("Reshape", [x, this.i64(dims)]);
  }

  transpose(x: string, perm: number[]): string {
    return this.op("Transpose", [x], { perm });
  }

  /** Sum over `axes` (ReduceSum takes axes as an input since opset 13). */
  reduceSum(x: string, axes: number[], keepdims = false): string {
    return this.op("ReduceSum", [x, this.i64(axes)], { keepdims: keepdims ? 1 : 0 });
  }

  mul(a: string, b: string): string {
    return this.op("Mul", [a, b]);
  }

  add(a: string, b: string): string {
    return this.op("Add", [a, b]);
  }

  sub(a: string, b: string): string {
    return this.op("Sub", [a, b]);
  }

  div(a: string, b: string): string {
    return this.op("Div", [a, b]);
  }

  scale(x: string, factor: number): string {
    return this.op("Mul", [x, this.f32(factor)]);
  }

  /** Slice along `axes` (ONNX Slice with optional steps). */
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const inputs = [x, this.i64(starts), this.i64(ends), this.i64(axes)];
    if (steps && steps.some((s) => s !== 1)) inputs.push(this.i64(steps));
    return this.op("Slice", inputs);
  }

  /** Zero padding of NCHW spatial axes: [top, left, bottom, right]. */
  padSpatial(x: string, pads: number[], layout: "nchw" | "nhwc" = "nchw"): string {
    if (pads.every((p) => p === 0)) return x;
    const [t, l, b, r] = pads;
    const all = layout === "nchw" ? [0, 0, t, l, 0, 0, b, r] : [0, t, l, 0, 0, b, r, 0];
    return this.op("Pad", [x, this.i64(all)], { mode: "constant" });
  }

  /** Sum of several tensors of one shape. */
  sum(terms: string[]): string {
    if (terms.length === 1) return terms[0];
    if (terms.length === 2) return this.add(terms[0], terms[1]);
    return this.op("Sum", terms);
  }

  toBytes(graphName: string): Uint8Array {
    const { nodes, graphInputs: inputs, graphOutputs: outputs } = this;
    const onnx = new OnnxGraph();
    const used = new Set(nodes.flatMap((n) => n.inputs));
    for (const [name, { values, dims }] of this.initializers) if (used.has(name)) onnx.addInitializer(name, values, dims);
    for (const port of inputs) onnx.addInput(port.name, port.dims, port.elemType);
    for (const node of nodes) onnx.addNode(node.type, node.inputs, node.attributes, { name: node.name, outputs: node.outputs, domain: node.domain });
    for (const port of outputs) onnx.addOutput(port.name, port.dims, port.elemType);
    const extraOpsets = nodes.some((n) => n.domain === NCHWC_DOMAIN) ? [{ domain: NCHWC_DOMAIN, version: 1 }] : [];
    return onnx.toBytes({ opset: TRAIN_OPSET, graphName, producerName: "training-studio ort trainer", extraOpsets });
  }
}

export const float = onnxFloat;
