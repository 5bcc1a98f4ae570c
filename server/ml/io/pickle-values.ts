// The inert values the restricted unpickler builds (unpickler.ts): globals, call records, and PyTorch
// storages and tensors recognised in them.

export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What a call would have built: `callee(*args)`, then `__setstate__(state)`, items appended. */
export class PickleObject {
  state: unknown = undefined;
  readonly listItems: unknown[] = [];
  readonly dictItems: [unknown, unknown][] = [];

  constructor(
    readonly callee: unknown,
    readonly args: unknown[],
    readonly kwargs: Map<unknown, unknown> | null = null,
  ) {}

  /** The class or function's qualified name when the callee is a global, else null. */
  get className(): string | null {
    return this.callee instanceof PickleGlobal ? this.callee.qualifiedName : null;
  }
}

export type TorchDtype = "float64" | "float32" | "float16" | "bfloat16" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

/** A storage a checkpoint refers to by persistent id ('storage', torch.FloatStorage, key, location, numel). */
export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly location: string,
    /** Number of elements. */
    readonly numel: number,
  ) {}
}

/** A tensor as a view of a storage: `storage[offset + Σ index·stride]` for index in `size`. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    readonly requiresGrad: boolean,
    readonly isParameter: boolean = false,
  ) {}

  get dtype(): TorchDtype {
    return this.storage.dtype;
  }
}

const STORAGE_DTYPES: Record<string, TorchDtype> = {
  DoubleStorage: "float64",
  FloatStorage: "float32",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};

/** The persistent ids of PyTorch's zip format; anything else is refused. */
export function torchStorageFromPersistentId(pid: unknown): TorchStorage {
  if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
    throw new Error(`unsupported persistent id ${describePickled(pid)}: only PyTorch tensor storages are read`);
  }
  const [, type, key, location, numel] = pid;
  const dtype = type instanceof PickleGlobal && type.module === "torch" ? STORAGE_DTYPES[type.name] : undefined;
  if (!dtype) throw new Error(`unsupported storage type ${describePickled(type)}`);
  if (typeof key !== "string" || typeof numel !== "number") throw new Error(`malformed storage reference ${describePickled(pid)}`);
  return new TorchStorage(key, dtype, String(location), numel);
}

/** A value as the error messages show it. */
export function describePickled(value: unknown): string {
  if (value instanceof PickleGlobal) return value.qualifiedName;
  if (Array.isArray(value)) return `(${value.map(describePickled).join(", ")})`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}
