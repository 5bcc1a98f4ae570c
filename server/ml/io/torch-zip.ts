import { open as openFile } from "node:fs/promises";
import { UnreadableWeightsError } from "./errors";
import { classNamesFrom } from "./python-literal";
import { PickleObject, TorchTensor, torchStorageFromPersistentId, unpickle, type TorchStorage } from "./unpickler";
import type { TorchDtype } from "./unpickler";
import { gather, ITEM_BYTES, storageValues, type LoadedTensor } from "./torch-storage";
import { sizeText, openZipArchive, type ZipLimits } from "./zip-archive";

/**
 * Reads PyTorch checkpoints in the zip format of torch.save (`<archive>/data.pkl`,
 * `<archive>/data/<storage key>`, `<archive>/byteorder`, `<archive>/version`). The pickle goes
 * through the restricted unpickler, so nothing in the file runs; storages are read one at a
 * time from their zip entries, and only those of the tensors asked for.
 */

export type { LoadedTensor, TensorValues } from "./torch-storage";

export interface TorchArchive {
  /** The unpickled object tree: inert data, globals as PickleGlobal, calls as PickleObject. */
  root: unknown;
  byteorder: "little" | "big";
  /** The archive's format version (the `version` entry). */
  version: string | null;
  readTensor(tensor: TorchTensor): Promise<LoadedTensor>;
  /** Why the storage's entry cannot hold it (missing, too short), from the central directory alone; null when it can. */
  storageProblem(storage: TorchStorage): string | null;
  close(): void;
}

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
    const storageProblem = (storage: TorchStorage): string | null => {
      const entry = entries.get(`${prefix}data/${storage.key}`);
      if (!entry) return `storage ${storage.key} is missing from the archive`;
      if (entry.uncompressedSize < storage.numel * ITEM_BYTES[storage.dtype]) {
        return `storage ${storage.key} holds ${entry.uncompressedSize} bytes, fewer than its ${storage.numel} ${storage.dtype} elements`;
      }
      return null;
    };
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
      storageProblem,
      async readTensor(tensor) {
        const { storage } = tensor;
        const problem = storageProblem(storage);
        if (problem) throw new UnreadableWeightsError(problem);
        const entry = entries.get(`${prefix}data/${storage.key}`)!;
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

/** A nn.Module's state-dict tensors and BatchNorm settings, by walking _parameters (named into `parameters`), _buffers and _modules. */
function moduleTensors(module: PickleObject, batchNorms: Record<string, BatchNormSettings>, parameters: Set<string>): Map<string, TorchTensor> {
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
        if (!(tensor instanceof TorchTensor) || (group === "_buffers" && skip instanceof Set && skip.has(name))) continue;
        tensors.set(prefix + String(name), tensor);
        if (group === "_parameters") parameters.add(prefix + String(name));
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

/** What a checkpoint holds, read from its pickle alone: its tensors are still views of unread storages. */
interface CheckpointOutline extends Omit<TorchCheckpoint, "tensors" | "stride"> {
  tensors: Map<string, TorchTensor>;
  /** A pickled module's parameters (the rest are buffers); null for a state dict, which does not say. */
  parameterNames: Set<string> | null;
  strideTensor: TorchTensor | null;
}

/**
 * A plain state_dict (name → tensor; also under a "state_dict"/"model" key), a whole pickled nn.Module,
 * or an Ultralytics checkpoint ({model | ema: DetectionModel, train_args, …}) with what it carries.
 */
function outline(archive: TorchArchive): CheckpointOutline {
  const root = archive.root;
  const top = root instanceof Map ? root : null;
  const batchNorms: Record<string, BatchNormSettings> = {};
  const base: CheckpointOutline = {
    kind: "state_dict",
    tensors: new Map(),
    parameterNames: null,
    strideTensor: null,
    modelClass: null,
    batchNorms,
    names: null,
    nc: null,
    task: null,
    imgsz: null,
    yaml: null,
    trainArgs: null,
    epoch: null,
    date: null,
    producerVersion: null,
    archiveVersion: archive.version,
  };

  const stateDict = [root, top?.get("state_dict"), top?.get("model_state_dict"), top?.get("model")].find(isStateDict);
  if (stateDict) return { ...base, tensors: stateDict };

  const model = [top?.get("model"), top?.get("ema"), root].find(isModule);
  if (!model) {
    throw new UnreadableWeightsError("the checkpoint holds neither a state_dict (name → tensor) nor a pickled nn.Module");
  }
  const parameterNames = new Set<string>();
  const tensors = moduleTensors(model, batchNorms, parameterNames);
  if (tensors.size === 0) throw new UnreadableWeightsError("the pickled model has no tensors");
  const attrs = model.state as Map<unknown, unknown>;
  const className = model.className;
  const trainArgs = plainRecord(top?.get("train_args")) ?? plainRecord(attrs.get("args"));
  const yaml = plainRecord(attrs.get("yaml"));
  const names = classNamesFrom(attrs.get("names"));
  const strideTensor = attrs.get("stride");
  const shortClass = className?.split(".").pop() ?? "";
  const task = TASK_BY_CLASS[shortClass] ?? null;
  const isUltralytics = className?.startsWith("ultralytics.") || top?.has("train_args") === true;
  const field = (key: string) => top?.get(key);
  return {
    ...base,
    kind: isUltralytics ? "ultralytics" : "module",
    tensors,
    parameterNames,
    strideTensor: strideTensor instanceof TorchTensor ? strideTensor : null,
    modelClass: className,
    names,
    nc: (typeof yaml?.nc === "number" ? yaml.nc : null) ?? names?.length ?? null,
    task: (trainArgs && Object.values(TASK_BY_CLASS).find((t) => t === trainArgs.task)) ?? task,
    imgsz: imgszFrom(trainArgs?.imgsz),
    yaml,
    trainArgs,
    epoch: typeof field("epoch") === "number" ? (field("epoch") as number) : null,
    date: typeof field("date") === "string" ? (field("date") as string) : null,
    producerVersion: typeof field("version") === "string" ? (field("version") as string) : null,
  };
}

/** Every tensor of the checkpoint read, with its class names, nc, task, yaml, imgsz, strides and BatchNorm eps/momentum. */
export async function readTorchCheckpoint(path: string): Promise<TorchCheckpoint> {
  const archive = await openTorchArchive(path);
  try {
    const { tensors, parameterNames: _parameterNames, strideTensor, ...rest } = outline(archive);
    const stride = strideTensor ? Array.from((await archive.readTensor(strideTensor)).data, Number) : null;
    return { ...rest, tensors: await readAll(archive, tensors), stride };
  } finally {
    archive.close();
  }
}

export interface TorchMetadata extends Omit<TorchCheckpoint, "tensors"> {
  tensorCount: number;
  /** Elements of the learned tensors: a module's parameters, or a state dict's tensors but BatchNorm statistics. */
  parameters: number;
  dtypes: TorchDtype[];
  /** Bytes of the storages the tensors view, each counted once. */
  storageBytes: number;
}

/** Strides are a handful of numbers; a "stride" larger than this is not one and stays unread. */
const MAX_STRIDE_ELEMENTS = 16;
const BATCH_NORM_STATISTICS = /\.(running_mean|running_var|num_batches_tracked)$/;

/**
 * What readTorchCheckpoint says of a file but its tensors' values, from the zip's central directory and
 * data.pkl (and an Ultralytics model's few stride numbers): memory and time do not grow with the weights.
 * Every storage must be in the archive at its size, unless `requireStorages` is false.
 */
export async function readTorchMetadata(path: string, options: { requireStorages?: boolean } = {}): Promise<TorchMetadata> {
  const archive = await openTorchArchive(path);
  try {
    const { tensors, parameterNames, strideTensor, ...rest } = outline(archive);
    for (const [name, tensor] of options.requireStorages === false ? [] : tensors) {
      const problem = archive.storageProblem(tensor.storage);
      if (problem) throw new UnreadableWeightsError(`tensor ${name}: ${problem}`);
    }
    const numel = (tensor: TorchTensor) => tensor.size.reduce((n, d) => n * d, 1);
    const learned = [...tensors].filter(([name]) => (parameterNames ? parameterNames.has(name) : !BATCH_NORM_STATISTICS.test(name)));
    const storages = new Map([...tensors.values()].map((tensor) => [tensor.storage.key, tensor.storage]));
    const readStride = strideTensor !== null && strideTensor.storage.numel <= MAX_STRIDE_ELEMENTS;
    return {
      ...rest,
      stride: readStride ? Array.from((await archive.readTensor(strideTensor)).data, Number) : null,
      tensorCount: tensors.size,
      parameters: learned.reduce((sum, [, tensor]) => sum + numel(tensor), 0),
      dtypes: [...new Set([...tensors.values()].map((tensor) => tensor.dtype))].sort(),
      storageBytes: [...storages.values()].reduce((sum, storage) => sum + storage.numel * ITEM_BYTES[storage.dtype], 0),
    };
  } finally {
    archive.close();
  }
}
