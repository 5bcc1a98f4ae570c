// Writes an Ultralytics-style checkpoint as torch.save lays it out (zip: data.pkl, data/<key>, byteorder,
// version), so browser tests and benches can make a real, full-size .pt without PyTorch: the pickle names the
// globals a real one does (ultralytics.nn.tasks.DetectionModel, torch._utils._rebuild_tensor_v2, HalfStorage …).

import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";

export interface CheckpointSpec {
  /** State-dict names ("model.0.conv.weight") and shapes, stored as fp16. */
  tensors: Record<string, number[]>;
  names: string[];
  /** The model yaml's file name, which says which zoo model it is ("yolov8n.yaml"). */
  yamlFile: string;
  imgsz: number;
  /** The value of element i of every tensor (BatchNorm variances are made positive). */
  value?: (i: number) => number;
}

/** Protocol-2 pickle opcodes, written without a memo (nothing is shared). */
class PickleWriter {
  private readonly chunks: Buffer[] = [Buffer.from([0x80, 0x02])];
  private op(...bytes: number[]) {
    this.chunks.push(Buffer.from(bytes));
  }
  global(module: string, name: string) {
    this.chunks.push(Buffer.from(`c${module}\n${name}\n`, "latin1"));
  }
  string(text: string) {
    const utf8 = Buffer.from(text, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32LE(utf8.length);
    this.chunks.push(Buffer.from("X"), length, utf8);
  }
  int(value: number) {
    const bytes = Buffer.alloc(5);
    bytes[0] = 0x4a;
    bytes.writeInt32LE(value, 1);
    this.chunks.push(bytes);
  }
  float(value: number) {
    const bytes = Buffer.alloc(9);
    bytes[0] = 0x47;
    bytes.writeDoubleBE(value, 1);
    this.chunks.push(bytes);
  }
  bool(value: boolean) {
    this.op(value ? 0x88 : 0x89);
  }
  none() {
    this.op(0x4e);
  }
  mark() {
    this.op(0x28);
  }
  tuple() {
    this.op(0x74);
  }
  emptyTuple() {
    this.op(0x29);
  }
  emptyDict() {
    this.op(0x7d);
  }
  setItems() {
    this.op(0x75);
  }
  reduce() {
    this.op(0x52);
  }
  newObj() {
    this.op(0x81);
  }
  build() {
    this.op(0x62);
  }
  persistentId() {
    this.op(0x51);
  }
  bytes(): Buffer {
    return Buffer.concat([...this.chunks, Buffer.from(".")]);
  }
}

type Value = string | number | boolean | null | Value[] | { dict: [Value, Value][] } | { write: (w: PickleWriter) => void };

function write(w: PickleWriter, value: Value): void {
  if (value === null) return w.none();
  if (typeof value === "string") return w.string(value);
  if (typeof value === "boolean") return w.bool(value);
  if (typeof value === "number") return Number.isInteger(value) ? w.int(value) : w.float(value);
  if (Array.isArray(value)) {
    w.mark();
    value.forEach((item) => write(w, item));
    return w.tuple();
  }
  if ("write" in value) return value.write(w);
  w.emptyDict();
  if (value.dict.length === 0) return;
  w.mark();
  for (const [key, item] of value.dict) {
    write(w, key);
    write(w, item);
  }
  w.setItems();
}

const orderedDict = (entries: [Value, Value][]): Value => ({
  write(w) {
    w.global("collections", "OrderedDict");
    w.emptyTuple();
    w.reduce();
    if (entries.length === 0) return;
    w.mark();
    for (const [key, item] of entries) {
      write(w, key);
      write(w, item);
    }
    w.setItems();
  },
});

const tensor = (key: string, storage: "HalfStorage" | "FloatStorage", shape: number[], parameter: boolean): Value => ({
  write(w) {
    const numel = shape.reduce((n, d) => n * d, 1);
    if (parameter) w.global("torch._utils", "_rebuild_parameter");
    if (parameter) w.mark();
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.mark();
    w.mark();
    write(w, "storage");
    w.global("torch", storage);
    write(w, key);
    write(w, "cpu");
    write(w, Math.max(1, numel));
    w.tuple();
    w.persistentId();
    write(w, 0);
    write(w, shape);
    write(w, shape.map((_, axis) => shape.slice(axis + 1).reduce((n, d) => n * d, 1)));
    write(w, false);
    write(w, orderedDict([]));
    w.tuple();
    w.reduce();
    if (parameter) {
      write(w, true);
      write(w, orderedDict([]));
      w.tuple();
      w.reduce();
    }
  },
});

interface ModuleNode {
  parameters: [string, Value][];
  buffers: [string, Value][];
  children: Map<string, ModuleNode>;
}

const BUFFERS = /^(running_mean|running_var|num_batches_tracked)$/;

function moduleObject(node: ModuleNode, className: [string, string], attributes: [Value, Value][] = []): Value {
  return {
    write(w) {
      w.global(...className);
      w.emptyTuple();
      w.newObj();
      const children = [...node.children].map(([name, child]): [Value, Value] => {
        // Ultralytics names every BatchNorm of its Conv blocks "bn".
        return [name, name === "bn" ? moduleObject(child, ["torch.nn.modules.batchnorm", "BatchNorm2d"], [["eps", 0.001], ["momentum", 0.03]]) : moduleObject(child, ["torch.nn.modules.module", "Module"])];
      });
      write(w, {
        dict: [["training", false], ["_parameters", orderedDict(node.parameters)], ["_buffers", orderedDict(node.buffers)], ["_modules", orderedDict(children)], ...attributes],
      });
      w.build();
    },
  };
}

/** Writes the checkpoint; answers its storages' total bytes. */
export async function writeUltralyticsCheckpoint(file: string, spec: CheckpointSpec): Promise<number> {
  const value = spec.value ?? ((i: number) => (((i * 2654435761) % 1000) / 1000 - 0.5) * 0.1);
  const root: ModuleNode = { parameters: [], buffers: [], children: new Map() };
  const storages: [string, Buffer][] = [];
  for (const [name, shape] of Object.entries(spec.tensors)) {
    const parts = name.split(".");
    const leaf = parts.pop()!;
    let node = root;
    for (const part of parts) {
      if (!node.children.has(part)) node.children.set(part, { parameters: [], buffers: [], children: new Map() });
      node = node.children.get(part)!;
    }
    const key = String(storages.length);
    const numel = Math.max(1, shape.reduce((n, d) => n * d, 1));
    const half = Buffer.alloc(numel * 2);
    for (let i = 0; i < numel; i++) half.writeUInt16LE(toHalfBits(leaf === "running_var" ? 1 + Math.abs(value(i)) : value(i)), 2 * i);
    storages.push([key, half]);
    (BUFFERS.test(leaf) ? node.buffers : node.parameters).push([leaf, tensor(key, "HalfStorage", shape, !BUFFERS.test(leaf))]);
  }
  const stride = String(storages.length);
  const strideBytes = Buffer.alloc(12);
  [8, 16, 32].forEach((s, i) => strideBytes.writeFloatLE(s, 4 * i));
  storages.push([stride, strideBytes]);
  const model = moduleObject(root, ["ultralytics.nn.tasks", "DetectionModel"], [
    ["names", { dict: spec.names.map((name, i): [Value, Value] => [i, name]) }],
    ["yaml", { dict: [["nc", spec.names.length], ["scale", "n"], ["yaml_file", spec.yamlFile], ["ch", 3]] }],
    ["stride", tensor(stride, "FloatStorage", [3], false)],
  ]);
  const w = new PickleWriter();
  write(w, {
    dict: [
      ["date", "2024-01-01T00:00:00"],
      ["version", "8.1.0"],
      ["epoch", -1],
      ["model", model],
      ["ema", null],
      ["train_args", { dict: [["task", "detect"], ["imgsz", spec.imgsz], ["epochs", 100]] }],
    ],
  });
  const zip = new yazl.ZipFile();
  const written = pipeline(zip.outputStream, createWriteStream(file));
  zip.addBuffer(w.bytes(), "archive/data.pkl", { compress: false });
  zip.addBuffer(Buffer.from("little"), "archive/byteorder", { compress: false });
  for (const [key, bytes] of storages) zip.addBuffer(bytes, `archive/data/${key}`, { compress: false });
  zip.addBuffer(Buffer.from("3\n"), "archive/version", { compress: false });
  zip.end();
  await written;
  return storages.reduce((sum, [, bytes]) => sum + bytes.length, 0);
}

/** IEEE half precision bits of `value` (round to nearest, no subnormal care: test data stays in range). */
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

function toHalfBits(value: number): number {
  scratch[0] = value;
  const bits = scratchBits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return sign | 0x7c00;
  // A mantissa that rounds up to 1024 carries into the exponent, as it should.
  return sign | ((exponent << 10) + Math.round(mantissa / 0x2000));
}
