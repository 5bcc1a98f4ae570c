// The calls the unpickler interprets as data (OrderedDict, set, bytes, PyTorch's tensor rebuilds), by
// the shape of their arguments; every other call stays an inert PickleObject record.
import { describePickled, PickleGlobal, PickleObject, TorchStorage, TorchTensor } from "./pickle-values";

const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x));

function tensorFrom(args: unknown[], isParameter = false): TorchTensor {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof TorchStorage) || typeof offset !== "number" || !isIntList(size) || !isIntList(stride) || size.length !== stride.length) {
    throw new Error(`malformed tensor record (${args.map(describePickled).join(", ")})`);
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
      if (!(data instanceof TorchTensor)) throw new Error(`a parameter of ${describePickled(data)}, expected a tensor`);
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

export function call(callee: unknown, args: unknown, kwargs: Map<unknown, unknown> | null = null): unknown {
  if (!Array.isArray(args)) throw new Error(`call arguments are ${describePickled(args)}, expected a tuple`);
  if (callee instanceof PickleGlobal && !kwargs) {
    const interpreted = interpretCall(callee, args);
    if (interpreted) return interpreted.value;
  }
  return new PickleObject(callee, args, kwargs);
}
