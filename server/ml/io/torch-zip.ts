import { open as openFile } from "node:fs/promises";
import { UnreadableWeightsError } from "./errors";
import { classNamesFrom } from "./python-literal";
import { PickleObject, TorchTensor, torchStorageFromPersistentId, unpickle } from "./unpickler";
import type { TorchDtype } from "./unpickler";
import { sizeText, openZipArchive, type ZipLimits } from "./zip-archive";

/**
 * Reads PyTorch checkpoints in the zip format of torch.save (`<archive>/data.pkl`,
 * `<archive>/data/<storage key>`, `<archive>/byteorder`, `<archive>/version`). The pickle goes
 * through the restricted unpickler, so nothing in the file runs; storages are read one at a
 * time from their zip entries, and only those of the tensors asked for.
 */

/** fp16 and bf16 become Float32Array; bool becomes Uint8Array (0/1). */
export type TensorValues = Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface LoadedTensor {
  /** The dtype stored in the file. */
  dtype: TorchDtype;
  shape: number[];
  /** Row-major (contiguous) values. */
  data: TensorValues;
}

export interface TorchArchive {
  /** The unpickled object tree: inert data, globals as PickleGlobal, calls as PickleObject. */
  root: unknown;
  byteorder: "little" | "big";
  /** The archive's format version (the `version` entry). */
  version: string | null;
  readTensor(tensor: TorchTensor): Promise<LoadedTensor>;
  close(): void;
}

const ITEM_BYTES: Record<TorchDtype, number> = {
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

/** The pickle torch.save(_use_new_zipfile_serialization=False) starts with: protocol 2, LONG1 of its magic number. */
const LEGACY_MAGIC = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
const ZIP_MAGIC = Buffer.from("PK\x03\x04", "latin1");

/** Refuses anything but a zip archive, naming the legacy format. */
async function checkFormat(path: string): Promise<void> {
  const file = await openFile(path, "r");
  try {
    const head = Buffer.alloc(LEGACY_MAGIC.length);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    if (head.subarray(0, bytesRead).equals(LEGACY_MAGIC)) {
      throw new UnreadableWeightsError(
        "legacy PyTorch format (torch.save with _use_new_zipfile_serialization=False); re-save it with a current PyTorch",
      );
    }
    if (!head.subarray(0, 4).equals(ZIP_MAGIC)) throw new UnreadableWeightsError("not a PyTorch checkpoint: the file is not a zip archive");
  } finally {
    await file.close();
  }
}

const GB = 1024 ** 3;

/**
 * torch.save stores entries uncompressed, so a generous expansion bound refuses only zip bombs; one
 * storage may be large (a 4 GB embedding), the pickle never is.
 */
const TORCH_ZIP_LIMITS: ZipLimits = { maxEntries: 100_000, maxEntryBytes: 4 * GB, maxTotalBytes: 64 * GB, maxExpansion: 16 };
const MAX_PICKLE_BYTES = 512 * 1024 * 1024;

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
function storageValues(bytes: Uint8Array, dtype: TorchDtype, count: number, bigEndian: boolean): TensorValues {
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
function gather(values: TensorValues, tensor: TorchTensor): TensorValues {
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

/** Opens a checkpoint and unpickles its object tree; tensors are read on demand. */
export async function openTorchArchive(path: string): Promise<TorchArchive> {
  await checkFormat(path);
  const zip = await openZipArchive(path, TORCH_ZIP_LIMITS).catch((error: unknown) => {
    throw error instanceof UnreadableWeightsError ? new UnreadableWeightsError(`not a PyTorch checkpoint: ${error.message}`) : error;
  });
  const { entries } = zip;
  try {
    const pickleName = [...entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name));
    if (!pickleName) throw new UnreadableWeightsError("not a PyTorch checkpoint: the zip archive has no <archive>/data.pkl");
    const prefix = pickleName.slice(0, -"data.pkl".length);
    const pickleEntry = entries.get(pickleName)!;
    if (pickleEntry.uncompressedSize > MAX_PICKLE_BYTES) throw new UnreadableWeightsError(`${pickleName} is ${sizeText(pickleEntry.uncompressedSize)}, more than the ${sizeText(MAX_PICKLE_BYTES)} a checkpoint's pickle may be`);
    const text = async (name: string) => {
      const entry = entries.get(prefix + name);
      return entry ? new TextDecoder().decode(await zip.read(entry)).trim() : null;
    };
    const byteorder = (await text("byteorder")) ?? "little";
    if (byteorder !== "little" && byteorder !== "big") throw new UnreadableWeightsError(`an unknown byte order "${byteorder}"`);
    const version = await text("version");
    let root: unknown;
    try {
      root = unpickle(await zip.read(pickleEntry), { persistentLoad: torchStorageFromPersistentId });
    } catch (error) {
      throw new UnreadableWeightsError(`cannot read ${pickleName}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return {
      root,
      byteorder,
      version,
      async readTensor(tensor) {
        const { storage } = tensor;
        const entry = entries.get(`${prefix}data/${storage.key}`);
        if (!entry) throw new UnreadableWeightsError(`storage ${storage.key} is missing from the archive`);
        const width = ITEM_BYTES[storage.dtype];
        if (entry.uncompressedSize < storage.numel * width) {
          throw new UnreadableWeightsError(`storage ${storage.key} holds ${entry.uncompressedSize} bytes, fewer than its ${storage.numel} ${storage.dtype} elements`);
        }
        const values = storageValues(await zip.read(entry), storage.dtype, storage.numel, byteorder === "big");
        return { dtype: storage.dtype, shape: [...tensor.size], data: gather(values, tensor) };
      },
      close: () => zip.close(),
    };
  } catch (error) {
    zip.close();
    throw error;
  }
}

export type CheckpointKind = "state_dict" | "module" | "ultralytics";
export type UltralyticsTask = "detect" | "segment" | "classify" | "pose" | "obb";

export interface BatchNormSettings {
  eps: number;
  /** PyTorch's sense (0.1 = 10% of the new batch); null = cumulative average. */
  momentum: number | null;
}

export interface TorchCheckpoint {
  kind: CheckpointKind;
  /** State-dict names → values, in state_dict() order. */
  tensors: Map<string, LoadedTensor>;
  /** The pickled model's class ("ultralytics.nn.tasks.DetectionModel"); null for a state dict. */
  modelClass: string | null;
  /** Every BatchNorm module by its dotted name ("model.0.bn"). */
  batchNorms: Record<string, BatchNormSettings>;
  names: string[] | null;
  nc: number | null;
  task: UltralyticsTask | null;
  /** [height, width] the model was trained at (train_args.imgsz). */
  imgsz: [number, number] | null;
  /** The model's strides (Ultralytics' model.stride). */
  stride: number[] | null;
  /** The model's yaml dict, as JSON-like data. */
  yaml: Record<string, unknown> | null;
  trainArgs: Record<string, unknown> | null;
  epoch: number | null;
  date: string | null;
  /** The version of the tool that wrote it (Ultralytics' `version`). */
  producerVersion: string | null;
  archiveVersion: string | null;
}

const TASK_BY_CLASS: Record<string, UltralyticsTask> = {
  DetectionModel: "detect",
  SegmentationModel: "segment",
  ClassificationModel: "classify",
  PoseModel: "pose",
  OBBModel: "obb",
};

const isModule = (value: unknown): value is PickleObject =>
  value instanceof PickleObject && value.state instanceof Map && value.state.get("_modules") instanceof Map;

const isStateDict = (value: unknown): value is Map<string, TorchTensor> =>
  value instanceof Map && value.size > 0 && [...value].every(([k, v]) => typeof k === "string" && v instanceof TorchTensor);

/** A nn.Module's state-dict tensors and BatchNorm settings, by walking _parameters, _buffers and _modules. */
function moduleTensors(module: PickleObject, batchNorms: Record<string, BatchNormSettings>): Map<string, TorchTensor> {
  const tensors = new Map<string, TorchTensor>();
  const visiting = new Set<PickleObject>();
  const walk = (node: PickleObject, prefix: string) => {
    if (visiting.has(node)) throw new UnreadableWeightsError(`module ${prefix || "(root)"} contains itself`);
    visiting.add(node);
    const state = node.state as Map<string, unknown>;
    const skip = state.get("_non_persistent_buffers_set");
    for (const group of ["_parameters", "_buffers"]) {
      const entries = state.get(group);
      if (!(entries instanceof Map)) continue;
      for (const [name, tensor] of entries) {
        if (tensor instanceof TorchTensor && !(group === "_buffers" && skip instanceof Set && skip.has(name))) tensors.set(prefix + String(name), tensor);
      }
    }
    if (/^torch\.nn\.modules\.batchnorm\.BatchNorm[123]d$/.test(node.className ?? "")) {
      const eps = state.get("eps");
      const momentum = state.get("momentum");
      batchNorms[prefix.slice(0, -1)] = { eps: typeof eps === "number" ? eps : 1e-5, momentum: typeof momentum === "number" ? momentum : null };
    }
    for (const [name, child] of state.get("_modules") as Map<unknown, unknown>) {
      if (isModule(child)) walk(child, `${prefix}${String(name)}.`);
    }
    visiting.delete(node);
  };
  walk(module, "");
  return tensors;
}

/** Attributes of an object record (a module, a namespace) or a dict, as a Map. */
function attributes(value: unknown): Map<unknown, unknown> | null {
  if (value instanceof Map) return value;
  if (value instanceof PickleObject && value.state instanceof Map) return value.state;
  return null;
}

/** Inert pickled data as JSON-like values (dicts → objects, tuples/sets → arrays, records → {__class__, …}). */
function toPlain(value: unknown, depth = 0): unknown {
  if (depth > 64) return null;
  if (typeof value === "bigint") return Number(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value) || value instanceof Set) return [...value].map((v) => toPlain(v, depth + 1));
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlain(v, depth + 1)]));
  if (value instanceof TorchTensor) return { __tensor__: value.dtype, shape: value.size };
  if (value instanceof PickleObject) return { __class__: value.className, args: toPlain(value.args, depth + 1), state: toPlain(value.state, depth + 1) };
  if (value instanceof Uint8Array) return Array.from(value);
  return String(value);
}

const plainRecord = (value: unknown) => {
  const plain = toPlain(attributes(value) ?? undefined);
  return plain && typeof plain === "object" && !Array.isArray(plain) ? (plain as Record<string, unknown>) : null;
};

function imgszFrom(value: unknown): [number, number] | null {
  if (typeof value === "number" && value > 0) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number" && v > 0)) return [value[0], value[1]];
  return null;
}

async function readAll(archive: TorchArchive, tensors: Map<string, TorchTensor>): Promise<Map<string, LoadedTensor>> {
  const loaded = new Map<string, LoadedTensor>();
  for (const [name, tensor] of tensors) {
    try {
      loaded.set(name, await archive.readTensor(tensor));
    } catch (error) {
      throw new UnreadableWeightsError(`tensor ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return loaded;
}

/**
 * Reads a plain state_dict (name → tensor; also under a "state_dict"/"model" key), a whole pickled
 * nn.Module, or an Ultralytics checkpoint ({model | ema: DetectionModel, train_args, …}) with what
 * it carries: class names, nc, task, yaml, imgsz, strides and every BatchNorm's eps/momentum.
 */
export async function readTorchCheckpoint(path: string): Promise<TorchCheckpoint> {
  const archive = await openTorchArchive(path);
  try {
    const root = archive.root;
    const top = root instanceof Map ? root : null;
    const batchNorms: Record<string, BatchNormSettings> = {};
    const base: TorchCheckpoint = {
      kind: "state_dict",
      tensors: new Map(),
      modelClass: null,
      batchNorms,
      names: null,
      nc: null,
      task: null,
      imgsz: null,
      stride: null,
      yaml: null,
      trainArgs: null,
      epoch: null,
      date: null,
      producerVersion: null,
      archiveVersion: archive.version,
    };

    const stateDict = [root, top?.get("state_dict"), top?.get("model_state_dict"), top?.get("model")].find(isStateDict);
    if (stateDict) return { ...base, tensors: await readAll(archive, stateDict) };

    const model = [top?.get("model"), top?.get("ema"), root].find(isModule);
    if (!model) {
      throw new UnreadableWeightsError("the checkpoint holds neither a state_dict (name → tensor) nor a pickled nn.Module");
    }
    const tensors = await readAll(archive, moduleTensors(model, batchNorms));
    if (tensors.size === 0) throw new UnreadableWeightsError("the pickled model has no tensors");
    const attrs = model.state as Map<unknown, unknown>;
    const className = model.className;
    const trainArgs = plainRecord(top?.get("train_args")) ?? plainRecord(attrs.get("args"));
    const yaml = plainRecord(attrs.get("yaml"));
    const names = classNamesFrom(attrs.get("names"));
    const strideTensor = attrs.get("stride");
    const stride = strideTensor instanceof TorchTensor ? Array.from((await archive.readTensor(strideTensor)).data, Number) : null;
    const shortClass = className?.split(".").pop() ?? "";
    const task = TASK_BY_CLASS[shortClass] ?? null;
    const isUltralytics = className?.startsWith("ultralytics.") || top?.has("train_args") === true;
    const field = (key: string) => top?.get(key);
    return {
      ...base,
      kind: isUltralytics ? "ultralytics" : "module",
      tensors,
      modelClass: className,
      names,
      nc: (typeof yaml?.nc === "number" ? yaml.nc : null) ?? names?.length ?? null,
      task: (trainArgs && Object.values(TASK_BY_CLASS).find((t) => t === trainArgs.task)) ?? task,
      imgsz: imgszFrom(trainArgs?.imgsz),
      stride,
      yaml,
      trainArgs,
      epoch: typeof field("epoch") === "number" ? (field("epoch") as number) : null,
      date: typeof field("date") === "string" ? (field("date") as string) : null,
      producerVersion: typeof field("version") === "string" ? (field("version") as string) : null,
    };
  } finally {
    archive.close();
  }
}
