// A thin layer over the exporter's OnnxGraph for training graphs: deduplicated constants, opset-17
// reductions, named graph inputs and outputs. The protobuf writing stays in export/onnx-graph.ts.
import { onnxFloat, OnnxGraph, type OnnxAttribute } from "../export/onnx-graph";
import { TensorDataType } from "../export/onnx-proto";

/** The opset training graphs are written in (ReduceMean/ReduceSumSquare take axes as attributes; ReduceSum as input). */
export const TRAIN_OPSET = 17;

/** A tensor of the training graph with its full shape (NCHW for images, batch first). */
export interface Value {
  name: string;
  shape: number[];
}

export class TrainGraph {
  readonly onnx = new OnnxGraph();
  private readonly constants = new Map<string, string>();
  private readonly inputNames: string[] = [];
  private readonly outputNames: string[] = [];
  /** Prefix of node names, so a graph dump says which layer emitted what. */
  scope = "g";

  op(type: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}): string {
    return this.onnx.op(type, inputs, attributes, `${this.scope}.${type}`);
  }

  ops(type: string, inputs: string[], outputs: number, attributes: Record<string, OnnxAttribute> = {}): string[] {
    return this.onnx.addNode(type, inputs, attributes, { name: `${this.scope}.${type}`, outputs });
  }

  /** An int64 vector constant (shared by every use of the same values). */
  i64(values: number[]): string {
    const key = `i64:${values.join(",")}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.onnx.constInt64("c_i64", values);
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float32 scalar constant (shared). */
  f32(value: number): string {
    const key = `f32:${Math.fround(value)}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.onnx.constFloat("c_f32", [value], []);
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float32 tensor constant (shared). */
  f32Tensor(values: number[], dims: number[]): string {
    const key = `f32t:${dims.join("x")}:${values.join(",")}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.onnx.constFloat("c_f32t", values, dims);
      this.constants.set(key, name);
    }
    return name;
  }

  input(name: string, dims: number[], elemType: number = TensorDataType.FLOAT): string {
    this.onnx.addInput(name, dims, elemType);
    this.inputNames.push(name);
    return name;
  }

  /** Makes `tensor` a graph output called `name` (through an Identity, so outputs never alias inputs). */
  output(name: string, tensor: string, dims: number[]): string {
    this.onnx.addNode("Identity", [tensor], {}, { name: `out.${name}`, outputs: [name] });
    this.onnx.addOutput(name, dims);
    this.outputNames.push(name);
    return name;
  }

  get inputs(): readonly string[] {
    return this.inputNames;
  }

  get outputs(): readonly string[] {
    return this.outputNames;
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
    return this.onnx.toBytes({ opset: TRAIN_OPSET, graphName, producerName: "training-studio ort trainer" });
  }
}

export const float = onnxFloat;
