import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { Type } from "protobufjs";
import { onnxSchema } from "../export/onnx-proto";
import { UnreadableWeightsError } from "./errors";
import { classNamesFrom, parsePythonLiteral } from "./python-literal";
import type { PythonLiteral } from "./python-literal";

/**
 * Reads what an `.onnx` file declares — inputs, outputs, opsets, producer, metadata — without
 * loading its weights: the protobuf is walked field by field from the file and the (large)
 * initializers and nodes are skipped by their length prefix, so a file of any size needs only
 * a small read window of memory.
 */

export type OnnxTask = "detect" | "classify" | "segment" | "pose" | "obb";

export interface OnnxValueInfo {
  name: string;
  /** ONNX element type in lower case: "float", "float16", "int64", "uint8", … */
  elementType: string;
  /** Fixed dims as numbers, symbolic dims by their name ("batch"), unknown dims as "?". */
  shape: (number | string)[];
}

export interface OnnxInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsets: { domain: string; version: number }[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  metadata: Record<string, string>;
  /** From metadata `task`, else inferred from the output layout, else null. */
  task: OnnxTask | null;
  taskSource: "metadata" | "outputs" | null;
  /** Class names by index, from metadata `names` (a Python dict or list literal). */
  names: string[] | null;
  /** Number of classes: from names, else from the output layout. */
  nc: number | null;
  /** [height, width]: metadata `imgsz`, else the first input's fixed spatial dims. */
  imgsz: [number, number] | null;
  stride: number | null;
  batch: number | null;
}

const ModelProto = onnxSchema.lookupType("onnx.ModelProto");
const GraphProto = onnxSchema.lookupType("onnx.GraphProto");
const TensorProto = onnxSchema.lookupType("onnx.TensorProto");
const ValueInfoProto = onnxSchema.lookupType("onnx.ValueInfoProto");
const OperatorSetIdProto = onnxSchema.lookupType("onnx.OperatorSetIdProto");
const StringStringEntryProto = onnxSchema.lookupType("onnx.StringStringEntryProto");
const DataType = onnxSchema.lookupEnum("onnx.TensorProto.DataType");

const field = (type: Type, name: string) => type.fields[name].id;
const MODEL = {
  irVersion: field(ModelProto, "ir_version"),
  producerName: field(ModelProto, "producer_name"),
  producerVersion: field(ModelProto, "producer_version"),
  graph: field(ModelProto, "graph"),
  opset: field(ModelProto, "opset_import"),
  metadata: field(ModelProto, "metadata_props"),
};
const GRAPH = { initializer: field(GraphProto, "initializer"), input: field(GraphProto, "input"), output: field(GraphProto, "output") };
const TENSOR_NAME = field(TensorProto, "name");

const WINDOW = 64 * 1024;
const decoder = new TextDecoder();

/** Positional reads through one window, so walking many small fields costs few system calls. */
class FileWindow {
  private buffer = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  async bytes(pos: number, length: number): Promise<Buffer> {
    if (pos < 0 || pos + length > this.size) throw new UnreadableWeightsError(`the ONNX file is truncated (a field runs past byte ${this.size})`);
    if (pos < this.start || pos + length > this.start + this.buffer.length) {
      const want = Math.min(Math.max(length, WINDOW), this.size - pos);
      const buffer = Buffer.alloc(want);
      const { bytesRead } = await this.file.read(buffer, 0, want, pos);
      this.buffer = buffer.subarray(0, bytesRead);
      this.start = pos;
      if (bytesRead < length) throw new UnreadableWeightsError("the ONNX file is truncated");
    }
    return this.buffer.subarray(pos - this.start, pos - this.start + length);
  }

  /** A base-128 varint at `pos`; protobuf int64s here (dims, versions, lengths) fit in a double. */
  async varint(pos: number): Promise<{ value: number; next: number }> {
    const bytes = await this.bytes(pos, Math.min(10, this.size - pos));
    let value = 0;
    for (let i = 0; i < bytes.length; i++) {
      value += (bytes[i] & 0x7f) * 2 ** (7 * i);
      if ((bytes[i] & 0x80) === 0) return { value, next: pos + i + 1 };
    }
    throw new UnreadableWeightsError(`the ONNX file has a malformed varint at byte ${pos}`);
  }
}

interface Field {
  id: number;
  wireType: number;
  /** Varint value, or the length of a length-delimited field. */
  value: number;
  /** Where a length-delimited field's payload starts. */
  start: number;
  end: number;
}

/** The fields of the message stored in [start, end), payloads not read. */
async function* fields(file: FileWindow, start: number, end: number): AsyncGenerator<Field> {
  let pos = start;
  while (pos < end) {
    const tag = await file.varint(pos);
    const id = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    pos = tag.next;
    if (wireType === 0) {
      const { value, next } = await file.varint(pos);
      yield { id, wireType, value, start: pos, end: next };
      pos = next;
    } else if (wireType === 2) {
      const { value, next } = await file.varint(pos);
      yield { id, wireType, value, start: next, end: next + value };
      pos = next + value;
    } else if (wireType === 1 || wireType === 5) {
      const width = wireType === 1 ? 8 : 4;
      yield { id, wireType, value: 0, start: pos, end: pos + width };
      pos += width;
    } else {
      throw new UnreadableWeightsError(`not an ONNX model: protobuf wire type ${wireType} at byte ${pos}`);
    }
  }
  if (pos !== end) throw new UnreadableWeightsError("not an ONNX model: a protobuf message overruns its length");
}

async function decodeField<T>(file: FileWindow, type: Type, f: Field): Promise<T> {
  const bytes = await file.bytes(f.start, f.end - f.start);
  try {
    return type.toObject(type.decode(bytes), { longs: Number, defaults: false, oneofs: true }) as T;
  } catch (error) {
    throw new UnreadableWeightsError(`not an ONNX model: a malformed ${type.name} (${error instanceof Error ? error.message : String(error)})`);
  }
}

interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

function valueInfo(decoded: DecodedValueInfo): OnnxValueInfo {
  const tensor = decoded.type?.tensor_type;
  const elemType = tensor?.elem_type ?? 0;
  return {
    name: decoded.name ?? "",
    elementType: (DataType.valuesById[elemType] ?? `type ${elemType}`).toLowerCase(),
    shape: (tensor?.shape?.dim ?? []).map((d) => d.dim_value ?? (d.dim_param || "?")),
  };
}

/** Reads the declared interface and metadata of an ONNX file. */
export async function readOnnxInfo(path: string): Promise<OnnxInfo> {
  const handle = await open(path, "r");
  try {
    const file = new FileWindow(handle, (await handle.stat()).size);
    let irVersion = 0;
    let producerName = "";
    let producerVersion = "";
    const opsets: OnnxInfo["opsets"] = [];
    const metadata: Record<string, string> = {};
    let graphInputs: OnnxValueInfo[] = [];
    const outputs: OnnxValueInfo[] = [];
    const initializerNames = new Set<string>();
    let sawGraph = false;

    for await (const f of fields(file, 0, file.size)) {
      if (f.id === MODEL.irVersion && f.wireType === 0) irVersion = f.value;
      else if (f.id === MODEL.producerName && f.wireType === 2) producerName = decoder.decode(await file.bytes(f.start, f.value));
      else if (f.id === MODEL.producerVersion && f.wireType === 2) producerVersion = decoder.decode(await file.bytes(f.start, f.value));
      else if (f.id === MODEL.opset && f.wireType === 2) {
        const opset = await decodeField<{ domain?: string; version?: number }>(file, OperatorSetIdProto, f);
        opsets.push({ domain: opset.domain ?? "", version: opset.version ?? 0 });
      } else if (f.id === MODEL.metadata && f.wireType === 2) {
        const entry = await decodeField<{ key?: string; value?: string }>(file, StringStringEntryProto, f);
        if (entry.key) metadata[entry.key] = entry.value ?? "";
      } else if (f.id === MODEL.graph && f.wireType === 2) {
        sawGraph = true;
        for await (const g of fields(file, f.start, f.end)) {
          if (g.wireType !== 2) continue;
          if (g.id === GRAPH.input) graphInputs.push(valueInfo(await decodeField(file, ValueInfoProto, g)));
          else if (g.id === GRAPH.output) outputs.push(valueInfo(await decodeField(file, ValueInfoProto, g)));
          else if (g.id === GRAPH.initializer) {
            // Only the name: older exporters list initializers among the graph inputs.
            for await (const t of fields(file, g.start, g.end)) {
              if (t.id === TENSOR_NAME && t.wireType === 2) initializerNames.add(decoder.decode(await file.bytes(t.start, t.value)));
            }
          }
        }
      }
    }
    if (!sawGraph || irVersion === 0) throw new UnreadableWeightsError("not an ONNX model: it has no graph or IR version");
    graphInputs = graphInputs.filter((input) => !initializerNames.has(input.name));
    return describe({ irVersion, producerName, producerVersion, opsets, inputs: graphInputs, outputs, metadata });
  } catch (error) {
    if (error instanceof RangeError) throw new UnreadableWeightsError(`not an ONNX model: ${error.message}`);
    throw error;
  } finally {
    await handle.close();
  }
}

type Declared = Pick<OnnxInfo, "irVersion" | "producerName" | "producerVersion" | "opsets" | "inputs" | "outputs" | "metadata">;

const TASKS: readonly OnnxTask[] = ["detect", "classify", "segment", "pose", "obb"];

function literal(metadata: Record<string, string>, key: string): PythonLiteral | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return parsePythonLiteral(text);
  } catch {
    return undefined;
  }
}

function imgszFrom(value: PythonLiteral | undefined): [number, number] | null {
  if (typeof value === "number" && value > 0) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number" && v > 0)) return [value[0] as number, value[1] as number];
  return null;
}

const positiveInt = (value: PythonLiteral | undefined) => (typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null);

/** Anchor points of a YOLOv8-style head on an h × w input with strides 8, 16 and 32. */
const anchorCount = (h: number, w: number) => [8, 16, 32].reduce((sum, s) => sum + Math.ceil(h / s) * Math.ceil(w / s), 0);

/**
 * The task an output layout implies: classify = [N, nc]; detect = [N, 4 + nc, anchors] (anchors
 * matching the input size when it is fixed); segment = detect with 32 mask coefficients plus a
 * [N, 32, h/4, w/4] prototype output.
 */
function taskFromOutputs(outputs: OnnxValueInfo[], imgsz: [number, number] | null): { task: OnnxTask; nc: number } | null {
  const dims = outputs.map((o) => o.shape);
  const num = (d: number | string | undefined) => (typeof d === "number" ? d : null);
  if (dims.length === 1 && dims[0].length === 2) {
    const nc = num(dims[0][1]);
    return nc ? { task: "classify", nc } : null;
  }
  const head = dims[0];
  if (!head || head.length !== 3) return null;
  const channels = num(head[1]);
  const anchors = num(head[2]);
  if (!channels || (anchors !== null && anchors <= channels)) return null;
  if (anchors !== null && imgsz && anchors !== anchorCount(imgsz[0], imgsz[1])) return null;
  if (dims.length === 1 && channels > 4) return { task: "detect", nc: channels - 4 };
  const masks = dims.length === 2 && dims[1].length === 4 ? num(dims[1][1]) : null;
  if (masks && channels > 4 + masks) return { task: "segment", nc: channels - 4 - masks };
  return null;
}

function describe(declared: Declared): OnnxInfo {
  const { metadata, inputs, outputs } = declared;
  const names = classNamesFrom(literal(metadata, "names"));
  const inputShape = inputs[0]?.shape ?? [];
  const spatial = inputShape.length === 4 ? inputShape.slice(2) : [];
  const inputImgsz = spatial.every((d) => typeof d === "number" && d > 0) && spatial.length === 2 ? (spatial as [number, number]) : null;
  const imgsz = imgszFrom(literal(metadata, "imgsz")) ?? inputImgsz;
  const declaredTask = TASKS.find((t) => t === metadata.task) ?? null;
  const layout = taskFromOutputs(outputs, imgsz);
  const task = declaredTask ?? layout?.task ?? null;
  return {
    ...declared,
    task,
    taskSource: declaredTask ? "metadata" : layout ? "outputs" : null,
    names,
    nc: names?.length ?? (layout && layout.task === task ? layout.nc : null),
    imgsz,
    stride: positiveInt(literal(metadata, "stride")),
    batch: positiveInt(literal(metadata, "batch")),
  };
}
