/**
 * A restricted unpickler: an interpreter of the pickle opcodes (protocols 0–5) that never
 * imports or calls anything. A global becomes an inert `PickleGlobal {module, name}`; a call
 * (REDUCE, NEWOBJ, INST, OBJ) becomes an inert `PickleObject` record of what would have been
 * called with what, and BUILD stores its state on that record. Only a fixed set of calls that
 * build plain data (OrderedDict, set, bytes) or PyTorch tensors are interpreted, by pattern,
 * never by running code.
 *
 * Python values map to: None → null, bool → boolean, int → number (bigint beyond 2^53),
 * float → number, str → string, bytes/bytearray → Uint8Array, list and tuple → array,
 * dict → Map (keys are often ints, and a Map cannot be polluted through "__proto__"),
 * set/frozenset → Set.
 */

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
    throw new Error(`unsupported persistent id ${describe(pid)}: only PyTorch tensor storages are read`);
  }
  const [, type, key, location, numel] = pid;
  const dtype = type instanceof PickleGlobal && type.module === "torch" ? STORAGE_DTYPES[type.name] : undefined;
  if (!dtype) throw new Error(`unsupported storage type ${describe(type)}`);
  if (typeof key !== "string" || typeof numel !== "number") throw new Error(`malformed storage reference ${describe(pid)}`);
  return new TorchStorage(key, dtype, String(location), numel);
}

function describe(value: unknown): string {
  if (value instanceof PickleGlobal) return value.qualifiedName;
  if (Array.isArray(value)) return `(${value.map(describe).join(", ")})`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x));

function tensorFrom(args: unknown[], isParameter = false): TorchTensor {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof TorchStorage) || typeof offset !== "number" || !isIntList(size) || !isIntList(stride) || size.length !== stride.length) {
    throw new Error(`malformed tensor record (${args.map(describe).join(", ")})`);
  }
  return new TorchTensor(storage, offset, size, stride, requiresGrad === true, isParameter);
}

/**
 * The calls interpreted as data: each recognises its arguments' shape and builds a plain value.
 * Everything else stays an inert PickleObject.
 */
function interpretCall(callee: PickleGlobal, args: unknown[]): { value: unknown } | null {
  switch (callee.qualifiedName) {
    case "collections.OrderedDict": {
      if (args.length === 0) return { value: new Map() };
      const pairs = args[0];
      if (Array.isArray(pairs) && pairs.every((p) => Array.isArray(p) && p.length === 2)) return { value: new Map(pairs as [unknown, unknown][]) };
      return null;
    }
    case "builtins.set":
    case "builtins.frozenset":
    case "__builtin__.set":
    case "__builtin__.frozenset":
      if (args.length === 0) return { value: new Set() };
      return Array.isArray(args[0]) ? { value: new Set(args[0]) } : null;
    case "builtins.bytearray":
    case "__builtin__.bytearray":
      if (args.length === 0) return { value: new Uint8Array(0) };
      return args[0] instanceof Uint8Array ? { value: args[0] } : null;
    case "_codecs.encode":
      // Protocol 2 writes Python 3 bytes as _codecs.encode(text, "latin1").
      if (typeof args[0] === "string" && (args[1] === "latin1" || args[1] === "latin-1")) {
        return { value: Uint8Array.from(args[0], (c) => c.charCodeAt(0)) };
      }
      return null;
    case "torch._utils._rebuild_tensor":
    case "torch._utils._rebuild_tensor_v2":
      return { value: tensorFrom(args) };
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state": {
      const [data, requiresGrad] = args;
      if (!(data instanceof TorchTensor)) throw new Error(`a parameter of ${describe(data)}, expected a tensor`);
      return { value: new TorchTensor(data.storage, data.offset, data.size, data.stride, requiresGrad === true, true) };
    }
    case "torch._tensor._rebuild_from_type_v2": {
      // (func, tensor subclass, func args, state): the tensor is what func builds.
      const [func, , funcArgs] = args;
      if (func instanceof PickleGlobal && Array.isArray(funcArgs)) return interpretCall(func, funcArgs);
      return null;
    }
    default:
      return null;
  }
}

function call(callee: unknown, args: unknown, kwargs: Map<unknown, unknown> | null = null): unknown {
  if (!Array.isArray(args)) throw new Error(`call arguments are ${describe(args)}, expected a tuple`);
  if (callee instanceof PickleGlobal && !kwargs) {
    const interpreted = interpretCall(callee, args);
    if (interpreted) return interpreted.value;
  }
  return new PickleObject(callee, args, kwargs);
}

export interface UnpickleOptions {
  /** Resolves PERSID/BINPERSID ids (PyTorch refers to storages this way); without it they are refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

const latin1 = new TextDecoder("latin1");
// Converting a huge integer to a bigint takes quadratic time; checkpoints never hold one this big.
const MAX_INT_BYTES = 1024;
const MAX_INT_DIGITS = 2500;
const utf8 = new TextDecoder("utf-8", { fatal: true });

const OPCODE_NAMES: Record<number, string> = {
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x97: "NEXT_BUFFER",
};

/** Interprets a pickle and returns the value it describes, as inert data. */
export function unpickle(input: Uint8Array, options: UnpickleOptions = {}): unknown {
  // A plain Uint8Array view, so that bytes values are Uint8Arrays even when given a Buffer.
  const data = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  let opcodeAt = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (message: string): never => {
    throw new Error(`pickle: ${message} (opcode at byte ${opcodeAt})`);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > data.length) fail("truncated data");
  };
  const u8 = () => {
    need(1);
    return data[pos++];
  };
  const u16 = () => {
    need(2);
    pos += 2;
    return view.getUint16(pos - 2, true);
  };
  const u32 = () => {
    need(4);
    pos += 4;
    return view.getUint32(pos - 4, true);
  };
  const i32 = () => {
    need(4);
    pos += 4;
    return view.getInt32(pos - 4, true);
  };
  const u64 = () => {
    need(8);
    pos += 8;
    const value = view.getBigUint64(pos - 8, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail("a length beyond 2^53");
    return Number(value);
  };
  const bytes = (n: number) => {
    need(n);
    pos += n;
    return data.subarray(pos - n, pos);
  };
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail("truncated data (no end of line)");
    const text = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const text = (n: number) => {
    const raw = bytes(n);
    try {
      return utf8.decode(raw);
    } catch {
      return fail("invalid UTF-8 in a string");
    }
  };

  // `stack` is replaced at every MARK, so a push must read it after its argument is evaluated.
  const push = (value: unknown) => {
    stack.push(value);
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail("stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("stack underflow");
    return stack[stack.length - 1];
  };
  /** Items pushed since the last MARK, which is removed. */
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = marks.pop();
    if (!previous) fail("no MARK to pop to");
    stack = previous as unknown[];
    return items;
  };
  const memoGet = (index: number) => {
    if (!memo.has(index)) fail(`memo entry ${index} is missing`);
    return memo.get(index);
  };
  const pushGlobal = (module: string, name: string) => push(new PickleGlobal(module, name));
  const persistent = (pid: unknown) => {
    const { persistentLoad } = options;
    if (!persistentLoad) return fail("a persistent id, and no way to resolve it was given");
    push(persistentLoad(pid));
  };

  /** Python's little-endian two's-complement LONG1/LONG4 bytes as a number or bigint. */
  const long = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    if (raw.length > MAX_INT_BYTES) fail(`an integer of ${raw.length} bytes`);
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) value -= 1n << BigInt(8 * raw.length);
    return integer(value);
  };
  const integer = (value: bigint): number | bigint =>
    value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;

  const setItems = (target: unknown, items: unknown[]) => {
    if (items.length % 2 !== 0) fail("an odd number of dict items");
    for (let i = 0; i < items.length; i += 2) {
      if (target instanceof Map) target.set(items[i], items[i + 1]);
      else if (target instanceof PickleObject) target.dictItems.push([items[i], items[i + 1]]);
      else fail(`SETITEMS on ${describe(target)}`);
    }
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof Set) items.forEach((item) => target.add(item));
    else if (target instanceof PickleObject) target.listItems.push(...items);
    else fail(`APPENDS on ${describe(target)}`);
  };

  for (;;) {
    opcodeAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("a pickle protocol newer than 5");
        break;
      case 0x95: // FRAME: framing is only a hint for buffered readers
        u64();
        break;
      case 0x2e: // STOP
        return pop();

      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;

      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(long(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail("a negative length");
        push(long(bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text); "01"/"00" are protocol 0's True/False
        const value = line();
        if (value === "01" || value === "00") push(value === "01");
        else if (/^[+-]?\d+$/.test(value) && value.length <= MAX_INT_DIGITS) push(integer(BigInt(value)));
        else fail(`a malformed INT ${JSON.stringify(value)}`);
        break;
      }
      case 0x4c: {
        // LONG (text)
        const value = line().replace(/L$/, "");
        if (!/^[+-]?\d+$/.test(value) || value.length > MAX_INT_DIGITS) fail(`a malformed LONG ${JSON.stringify(value)}`);
        push(integer(BigInt(value)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: {
        // FLOAT (text)
        const value = Number(line());
        if (Number.isNaN(value)) fail("a malformed FLOAT");
        push(value);
        break;
      }

      case 0x58: // BINUNICODE
        push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64()));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        push(line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u, U) => String.fromCodePoint(parseInt(u ?? U, 16))));
        break;
      case 0x54: // BINSTRING: Python 2 str, read as latin-1 text
        push(latin1.decode(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(bytes(u8())));
        break;
      case 0x53: {
        // STRING (quoted text)
        const quoted = line();
        if (!/^(['"]).*\1$/s.test(quoted)) fail("a malformed STRING");
        push(quoted.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        push(bytes(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        push(bytes(u8()));
        break;
      case 0x8e: // BINBYTES8
        push(bytes(u64()));
        break;
      case 0x96: // BYTEARRAY8
        push(bytes(u64()).slice());
        break;
      case 0x98: // READONLY_BUFFER
        break;

      case 0x29: // EMPTY_TUPLE
        push([]);
        break;
      case 0x85: // TUPLE1
        push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
        push(popMark());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x64: {
        // DICT
        const map = new Map();
        setItems(map, popMark());
        push(map);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const target = top();
        if (!(target instanceof Set)) fail("ADDITEMS on a non-set");
        items.forEach((item) => (target as Set<unknown>).add(item));
        break;
      }
      case 0x91: // FROZENSET
        push(new Set(popMark()));
        break;

      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
        push(memoGet(Number(line())));
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;

      case 0x63: {
        // GLOBAL: inert, never imported
        const module = line();
        pushGlobal(module, line());
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL with non-string names");
        pushGlobal(module as string, name as string);
        break;
      }
      case 0x52: {
        // REDUCE: recorded, never called
        const args = pop();
        push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        push(call(pop(), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        push(call(pop(), args, kwargs instanceof Map && kwargs.size > 0 ? kwargs : null));
        break;
      }
      case 0x69: {
        // INST: module and name as text, arguments since MARK
        const module = line();
        const name = line();
        push(call(new PickleGlobal(module, name), popMark()));
        break;
      }
      case 0x6f: {
        // OBJ: class and arguments since MARK
        const [cls, ...args] = popMark();
        push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD: the state is recorded on the object, never applied by code
        const state = pop();
        const target = top();
        if (target instanceof PickleObject) target.state = state;
        else if (!(target instanceof Map || target instanceof TorchTensor)) fail(`BUILD on ${describe(target)}`);
        // An OrderedDict's or tensor's extra attributes (state_dict()._metadata) are not data we keep.
        break;
      }
      case 0x50: // PERSID
        persistent(line());
        break;
      case 0x51: // BINPERSID
        persistent(pop());
        break;

      default: {
        const name = OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, "0")}`;
        fail(`unsupported opcode ${name}`);
      }
    }
  }
}
