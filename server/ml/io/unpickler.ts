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
 *
 * The values are in pickle-values.ts, the interpreted calls in pickle-calls.ts, the byte cursor in
 * pickle-reader.ts.
 */
import { call } from "./pickle-calls";
import { integer, MAX_INT_DIGITS, PickleReader } from "./pickle-reader";
import { describePickled, PickleGlobal, PickleObject, TorchTensor } from "./pickle-values";

export { PickleGlobal, PickleObject, TorchStorage, TorchTensor, torchStorageFromPersistentId, type TorchDtype } from "./pickle-values";

export interface UnpickleOptions {
  /** Resolves PERSID/BINPERSID ids (PyTorch refers to storages this way); without it they are refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

const OPCODE_NAMES: Record<number, string> = {
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x97: "NEXT_BUFFER",
};

/** Interprets a pickle and returns the value it describes, as inert data. */
export function unpickle(input: Uint8Array, options: UnpickleOptions = {}): unknown {
  const r = new PickleReader(input);
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  // `stack` is replaced at every MARK, so a push must read it after its argument is evaluated.
  const push = (value: unknown) => {
    stack.push(value);
  };
  const pop = (): unknown => {
    if (stack.length === 0) r.fail("stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) r.fail("stack underflow");
    return stack[stack.length - 1];
  };
  /** Items pushed since the last MARK, which is removed. */
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = marks.pop();
    if (!previous) r.fail("no MARK to pop to");
    stack = previous as unknown[];
    return items;
  };
  const memoGet = (index: number) => {
    if (!memo.has(index)) r.fail(`memo entry ${index} is missing`);
    return memo.get(index);
  };
  const pushGlobal = (module: string, name: string) => push(new PickleGlobal(module, name));
  const persistent = (pid: unknown) => {
    const { persistentLoad } = options;
    if (!persistentLoad) return r.fail("a persistent id, and no way to resolve it was given");
    push(persistentLoad(pid));
  };

  const setItems = (target: unknown, items: unknown[]) => {
    if (items.length % 2 !== 0) r.fail("an odd number of dict items");
    for (let i = 0; i < items.length; i += 2) {
      if (target instanceof Map) target.set(items[i], items[i + 1]);
      else if (target instanceof PickleObject) target.dictItems.push([items[i], items[i + 1]]);
      else r.fail(`SETITEMS on ${describePickled(target)}`);
    }
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof Set) items.forEach((item) => target.add(item));
    else if (target instanceof PickleObject) target.listItems.push(...items);
    else r.fail(`APPENDS on ${describePickled(target)}`);
  };

  for (;;) {
    const op = r.opcode();
    switch (op) {
      case 0x80: // PROTO
        if (r.u8() > 5) r.fail("a pickle protocol newer than 5");
        break;
      case 0x95: // FRAME: framing is only a hint for buffered readers
        r.u64();
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
        push(r.i32());
        break;
      case 0x4b: // BININT1
        push(r.u8());
        break;
      case 0x4d: // BININT2
        push(r.u16());
        break;
      case 0x8a: // LONG1
        push(r.long(r.bytes(r.u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = r.i32();
        if (n < 0) r.fail("a negative length");
        push(r.long(r.bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text); "01"/"00" are protocol 0's True/False
        const value = r.line();
        if (value === "01" || value === "00") push(value === "01");
        else if (/^[+-]?\d+$/.test(value) && value.length <= MAX_INT_DIGITS) push(integer(BigInt(value)));
        else r.fail(`a malformed INT ${JSON.stringify(value)}`);
        break;
      }
      case 0x4c: {
        // LONG (text)
        const value = r.line().replace(/L$/, "");
        if (!/^[+-]?\d+$/.test(value) || value.length > MAX_INT_DIGITS) r.fail(`a malformed LONG ${JSON.stringify(value)}`);
        push(integer(BigInt(value)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        push(r.float64());
        break;
      case 0x46: {
        // FLOAT (text)
        const value = Number(r.line());
        if (Number.isNaN(value)) r.fail("a malformed FLOAT");
        push(value);
        break;
      }

      case 0x58: // BINUNICODE
        push(r.text(r.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(r.text(r.u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(r.text(r.u64()));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        push(r.line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u, U) => String.fromCodePoint(parseInt(u ?? U, 16))));
        break;
      case 0x54: // BINSTRING: Python 2 str, read as latin-1 text
        push(r.latin1(r.i32()));
        break;
      case 0x55: // SHORT_BINSTRING
        push(r.latin1(r.u8()));
        break;
      case 0x53: {
        // STRING (quoted text)
        const quoted = r.line();
        if (!/^(['"]).*\1$/s.test(quoted)) r.fail("a malformed STRING");
        push(quoted.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        push(r.bytes(r.u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        push(r.bytes(r.u8()));
        break;
      case 0x8e: // BINBYTES8
        push(r.bytes(r.u64()));
        break;
      case 0x96: // BYTEARRAY8
        push(r.bytes(r.u64()).slice());
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
        if (!(target instanceof Set)) r.fail("ADDITEMS on a non-set");
        items.forEach((item) => (target as Set<unknown>).add(item));
        break;
      }
      case 0x91: // FROZENSET
        push(new Set(popMark()));
        break;

      case 0x70: // PUT
        memo.set(Number(r.line()), top());
        break;
      case 0x71: // BINPUT
        memo.set(r.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(r.u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
        push(memoGet(Number(r.line())));
        break;
      case 0x68: // BINGET
        push(memoGet(r.u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(r.u32()));
        break;

      case 0x63: {
        // GLOBAL: inert, never imported
        const module = r.line();
        pushGlobal(module, r.line());
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") r.fail("STACK_GLOBAL with non-string names");
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
        const module = r.line();
        const name = r.line();
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
        else if (!(target instanceof Map || target instanceof TorchTensor)) r.fail(`BUILD on ${describePickled(target)}`);
        // An OrderedDict's or tensor's extra attributes (state_dict()._metadata) are not data we keep.
        break;
      }
      case 0x50: // PERSID
        persistent(r.line());
        break;
      case 0x51: // BINPERSID
        persistent(pop());
        break;

      default: {
        const name = OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, "0")}`;
        r.fail(`unsupported opcode ${name}`);
      }
    }
  }
}
