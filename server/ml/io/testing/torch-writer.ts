// Writes PyTorch zip checkpoints from a compiled model, for tests that need a .pt without Python: a
// torchvision-style state dict, or an Ultralytics checkpoint ({model: DetectionModel pickled whole,
// train_args, …}) whose module tree and tensor layouts are PyTorch's. Pickle protocol 2, float32 storages.
import { writeFile } from "node:fs/promises";
import type * as tf from "@tensorflow/tfjs";
import type { ModuleNamer } from "../torch-to-graph";
import { zipBytes } from "../zip-testing";

class Tuple {
  constructor(readonly items: unknown[]) {}
}
class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}
/** cls() then __setstate__(state): how a nn.Module is pickled. */
class Instance {
  constructor(
    readonly cls: Global,
    readonly state: Map<string, unknown>,
  ) {}
}
class OrderedDict {
  constructor(readonly entries: [unknown, unknown][]) {}
}
interface Tensor {
  shape: number[];
  values: Float32Array;
  parameter: boolean;
}
const isTensor = (value: unknown): value is Tensor => typeof value === "object" && value !== null && (value as Tensor).values instanceof Float32Array;

class PickleWriter {
  private readonly chunks: Buffer[] = [Buffer.from([0x80, 0x02])];
  readonly storages: Buffer[] = [];

  private op(code: string, payload?: Buffer) {
    this.chunks.push(Buffer.from(code, "latin1"));
    if (payload) this.chunks.push(payload);
  }

  private global(g: Global) {
    this.op("c", Buffer.from(`${g.module}\n${g.name}\n`, "latin1"));
  }

  write(value: unknown): void {
    if (value === null || value === undefined) return this.op("N");
    if (typeof value === "boolean") return this.op(value ? "\x88" : "\x89");
    if (typeof value === "number") {
      if (Number.isInteger(value) && Math.abs(value) < 2 ** 31) {
        const b = Buffer.alloc(4);
        b.writeInt32LE(value);
        return this.op("J", b);
      }
      const b = Buffer.alloc(8);
      b.writeDoubleBE(value);
      return this.op("G", b);
    }
    if (typeof value === "string") {
      const text = Buffer.from(value, "utf8");
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      return this.op("X", Buffer.concat([length, text]));
    }
    if (value instanceof Global) return this.global(value);
    if (value instanceof Tuple) {
      this.op("(");
      value.items.forEach((item) => this.write(item));
      return this.op("t");
    }
    if (Array.isArray(value)) {
      this.op("]");
      if (value.length === 0) return;
      this.op("(");
      value.forEach((item) => this.write(item));
      return this.op("e");
    }
    if (value instanceof OrderedDict) {
      this.global(new Global("collections", "OrderedDict"));
      this.op(")");
      this.op("R");
      return this.items(value.entries);
    }
    if (value instanceof Map) {
      this.op("}");
      return this.items([...value]);
    }
    if (value instanceof Instance) {
      this.global(value.cls);
      this.op(")");
      this.op("\x81");
      this.write(value.state);
      return this.op("b");
    }
    if (isTensor(value)) return this.tensor(value);
    if (typeof value === "object") return this.write(new Map(Object.entries(value as Record<string, unknown>)));
    throw new Error(`cannot pickle ${String(value)}`);
  }

  private items(entries: [unknown, unknown][]) {
    if (entries.length === 0) return;
    this.op("(");
    for (const [key, item] of entries) {
      this.write(key);
      this.write(item);
    }
    this.op("u");
  }

  private tensor(tensor: Tensor) {
    const key = String(this.storages.length);
    this.storages.push(Buffer.from(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength));
    const strides = tensor.shape.map((_, i) => tensor.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    if (tensor.parameter) this.global(new Global("torch._utils", "_rebuild_parameter"));
    if (tensor.parameter) this.op("(");
    this.global(new Global("torch._utils", "_rebuild_tensor_v2"));
    this.op("(");
    this.write(new Tuple(["storage", new Global("torch", "FloatStorage"), key, "cpu", tensor.values.length]));
    this.op("Q");
    this.write(0);
    this.write(new Tuple(tensor.shape));
    this.write(new Tuple(strides));
    this.write(false);
    this.write(new OrderedDict([]));
    this.op("t");
    this.op("R");
    if (tensor.parameter) {
      this.write(true);
      this.write(new OrderedDict([]));
      this.op("t");
      this.op("R");
    }
  }

  bytes(): Buffer {
    return Buffer.concat([...this.chunks, Buffer.from(".", "latin1")]);
  }
}

/** A TF.js weight as PyTorch stores it: its tensor suffix and values in PyTorch's layout. */
function torchTensor(className: string, weightName: string, shape: number[], v: Float32Array): { suffix: string; shape: number[]; values: Float32Array; parameter: boolean } {
  const out = new Float32Array(v.length);
  if ((className === "Conv2D" && weightName === "kernel") || (className === "DepthwiseConv2D" && weightName === "depthwise_kernel")) {
    const [kh, kw, i, o] = shape;
    const depthwise = className === "DepthwiseConv2D";
    // Conv: HWIO → OIHW. Depthwise [kh, kw, C, M] → [C·M, 1, kh, kw].
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let b = 0; b < i; b++) for (let a = 0; a < o; a++) {
      const source = ((y * kw + x) * i + b) * o + a;
      out[depthwise ? ((b * o + a) * kh + y) * kw + x : ((a * i + b) * kh + y) * kw + x] = v[source];
    }
    return { suffix: "weight", shape: depthwise ? [i * o, 1, kh, kw] : [o, i, kh, kw], values: out, parameter: true };
  }
  if (className === "Dense" && weightName === "kernel") {
    const [inputs, outputs] = shape;
    for (let r = 0; r < inputs; r++) for (let c = 0; c < outputs; c++) out[c * inputs + r] = v[r * outputs + c];
    return { suffix: "weight", shape: [outputs, inputs], values: out, parameter: true };
  }
  const bn: Record<string, [string, boolean]> = { gamma: ["weight", true], beta: ["bias", true], moving_mean: ["running_mean", false], moving_variance: ["running_var", false] };
  if (className === "BatchNormalization" && bn[weightName]) return { suffix: bn[weightName][0], shape, values: v, parameter: bn[weightName][1] };
  if (weightName === "bias") return { suffix: "bias", shape, values: v, parameter: true };
  throw new Error(`no PyTorch layout for ${className} ${weightName}`);
}

const MODULE_CLASSES: Record<string, Global> = {
  Conv2D: new Global("torch.nn.modules.conv", "Conv2d"),
  DepthwiseConv2D: new Global("torch.nn.modules.conv", "Conv2d"),
  BatchNormalization: new Global("torch.nn.modules.batchnorm", "BatchNorm2d"),
  Dense: new Global("torch.nn.modules.linear", "Linear"),
};

interface ModuleNode {
  cls: Global;
  attributes: Map<string, unknown>;
  parameters: [string, Tensor][];
  buffers: [string, Tensor][];
  children: Map<string, ModuleNode>;
}

const moduleNode = (cls: Global): ModuleNode => ({ cls, attributes: new Map(), parameters: [], buffers: [], children: new Map() });

function moduleInstance(node: ModuleNode): Instance {
  const state = new Map<string, unknown>([
    ["training", false],
    ["_parameters", new OrderedDict(node.parameters)],
    ["_buffers", new OrderedDict(node.buffers)],
    ["_modules", new OrderedDict([...node.children].map(([name, child]) => [name, moduleInstance(child)]))],
    ...node.attributes,
  ]);
  return new Instance(node.cls, state);
}

/** Every weight of `model` under its PyTorch module name, as a module tree and as state-dict entries. */
function torchModules(model: tf.LayersModel, namer: ModuleNamer): { root: ModuleNode; stateDict: [string, Tensor][] } {
  const root = moduleNode(new Global("torch.nn.modules.module", "Module"));
  const stateDict: [string, Tensor][] = [];
  const layerNames = new Set(model.layers.map((layer) => layer.name));
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const name = namer(layer.name, layerNames);
    if (!name) throw new Error(`no PyTorch module name for layer ${layer.name}`);
    let node = root;
    const parts = name.split(".");
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      if (!node.children.has(part)) node.children.set(part, moduleNode(last ? MODULE_CLASSES[layer.getClassName()] : new Global("torch.nn.modules.container", "Sequential")));
      node = node.children.get(part)!;
    });
    if (layer.getClassName() === "BatchNormalization") {
      const config = layer.getConfig() as { epsilon: number; momentum: number };
      node.attributes.set("eps", config.epsilon);
      node.attributes.set("momentum", Math.round((1 - config.momentum) * 1e6) / 1e6);
    }
    layer.weights.forEach((weight, i) => {
      const converted = torchTensor(layer.getClassName(), weight.originalName.split("/").pop()!, weight.shape as number[], layer.getWeights()[i].dataSync() as Float32Array);
      const tensor: Tensor = { shape: converted.shape, values: converted.values, parameter: converted.parameter };
      (converted.parameter ? node.parameters : node.buffers).push([converted.suffix, tensor]);
      stateDict.push([`${name}.${converted.suffix}`, tensor]);
    });
  }
  return { root, stateDict };
}

export interface UltralyticsCheckpointInfo {
  /** The model yaml dict, as Ultralytics keeps it on the model (with yaml_file and scale). */
  yaml: Record<string, unknown>;
  names: string[];
  imgsz: number;
  task: "detect";
}

function toPython(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPython);
  if (value && typeof value === "object") return new Map(Object.entries(value).map(([k, v]) => [k, toPython(v)]));
  return value;
}

/** A .pt as torch.save writes it: `state_dict` alone (torchvision) or an Ultralytics checkpoint. */
export async function writeTorchCheckpoint(file: string, model: tf.LayersModel, namer: ModuleNamer, ultralytics?: UltralyticsCheckpointInfo): Promise<void> {
  const { root, stateDict } = torchModules(model, namer);
  const pickle = new PickleWriter();
  if (!ultralytics) {
    pickle.write(new OrderedDict(stateDict.map(([name, tensor]) => [name, { ...tensor, parameter: false }])));
  } else {
    const detection = moduleNode(new Global("ultralytics.nn.tasks", "DetectionModel"));
    detection.children = root.children;
    detection.attributes.set("yaml", toPython(ultralytics.yaml));
    detection.attributes.set("names", new Map(ultralytics.names.map((name, i) => [i, name])));
    pickle.write(
      new Map<string, unknown>([
        ["date", "2024-01-01T00:00:00"],
        ["version", "8.1.0"],
        ["epoch", -1],
        ["model", moduleInstance(detection)],
        ["train_args", new Map<string, unknown>([["task", ultralytics.task], ["imgsz", ultralytics.imgsz]])],
      ]),
    );
  }
  const files: Record<string, Buffer | string> = { "archive/data.pkl": pickle.bytes(), "archive/byteorder": "little", "archive/version": "3\n" };
  pickle.storages.forEach((bytes, key) => {
    files[`archive/data/${key}`] = bytes;
  });
  await writeFile(file, await zipBytes(files));
}
