import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PickleGlobal, PickleObject, TorchStorage, TorchTensor, torchStorageFromPersistentId, unpickle } from "./unpickler";

const fixture = (name: string) => readFile(path.join(import.meta.dirname, "fixtures", name));
/** The file the crafted pickles' commands would create (make_fixtures.py MARKER). */
const MARKER = "/tmp/studio-unpickler-marker-do-not-create";

describe("unpickle", () => {
  const shared = [1, 2];
  const expected = new Map<unknown, unknown>([
    ["ints", [0, 1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2n ** 62n, -(2n ** 70n), 2n ** 70n]],
    ["floats", [0.5, -1.25e-8, 3.0]],
    ["flags", [true, false, null]],
    ["text", "ünïcödé ✓"],
    ["bytes", new Uint8Array([0, 1, 255])],
    ["tuples", [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]],
    ["set", new Set([3, 4])],
    ["frozenset", new Set([5])],
    [
      "ordered",
      new Map([
        ["b", 1],
        ["a", 2],
      ]),
    ],
    [
      "int_keys",
      new Map([
        [0, "person"],
        [1, "bicycle"],
      ]),
    ],
    ["shared", [shared, shared]],
    ["long_text", "x".repeat(300)],
  ]);

  for (const protocol of [2, 3, 4, 5]) {
    it(`reads plain data pickled with protocol ${protocol}`, async () => {
      const value = unpickle(await fixture(`plain_p${protocol}.pkl`)) as Map<string, unknown>;
      expect(value).toEqual(expected);
      const [first, second] = value.get("shared") as unknown[][];
      expect(first).toBe(second);
    });
  }

  it("reads a protocol 5 bytearray", async () => {
    expect(unpickle(await fixture("plain_p5_bytearray.pkl"))).toEqual(new Uint8Array([97, 98, 99]));
  });

  describe("crafted payloads stay inert data", () => {
    beforeAll(async () => rm(MARKER, { force: true }));

    it("GLOBAL os.system + REDUCE becomes a call record and runs nothing", async () => {
      const value = unpickle(await fixture("malicious_reduce.pkl"));
      expect(value).toBeInstanceOf(PickleObject);
      const record = value as PickleObject;
      expect(record.callee).toEqual(new PickleGlobal("os", "system"));
      expect(record.className).toBe("os.system");
      expect(record.args).toEqual([`touch ${MARKER}`]);
      expect(existsSync(MARKER)).toBe(false);
    });

    it("STACK_GLOBAL builtins.exec, NEWOBJ and BUILD become records and run nothing", async () => {
      const [exec, system] = unpickle(await fixture("malicious_stack_global.pkl")) as PickleObject[];
      expect(exec.className).toBe("builtins.exec");
      expect(exec.args).toEqual([`open('${MARKER}', 'w')`]);
      expect(system.className).toBe("os.system");
      expect(system.state).toEqual(new Map());
      expect(existsSync(MARKER)).toBe(false);
    });
  });

  it("refuses an unknown opcode, naming it and its offset", () => {
    expect(() => unpickle(new Uint8Array([0x80, 0x02, 0x4e, 0xff]))).toThrow("pickle: unsupported opcode 0xff (opcode at byte 3)");
    expect(() => unpickle(new Uint8Array([0x80, 0x02, 0x82, 0x01]))).toThrow("unsupported opcode EXT1 (opcode at byte 2)");
  });

  it("refuses integers too large to convert cheaply", () => {
    const huge = new Uint8Array([0x80, 0x02, 0x8b, 0x00, 0x00, 0x01, 0x00, ...new Uint8Array(65536).fill(0x7f), 0x2e]);
    expect(() => unpickle(huge)).toThrow("pickle: an integer of 65536 bytes (opcode at byte 2)");
  });

  it("refuses truncated data, stack underflow and unresolvable persistent ids", () => {
    expect(() => unpickle(new Uint8Array([0x80, 0x02, 0x58, 0x10, 0, 0, 0, 0x61]))).toThrow(/truncated data/);
    expect(() => unpickle(new Uint8Array([0x80, 0x02, 0x2e]))).toThrow(/stack underflow/);
    expect(() => unpickle(new Uint8Array([0x80, 0x02, 0x4e, 0x51, 0x2e]))).toThrow(/persistent id/);
  });

  it("builds tensor descriptors from PyTorch's rebuild records and storage ids", () => {
    const ascii = (text: string) => [...Buffer.from(text, "latin1")];
    const global = (module: string, name: string) => [0x63, ...ascii(`${module}\n${name}\n`)];
    const str = (text: string) => [0x8c, text.length, ...ascii(text)];
    const int = (n: number) => [0x4b, n];
    const [MARK, TUPLE, TUPLE2, TUPLE3, REDUCE, BINPERSID, NEWTRUE, NEWFALSE, EMPTY_TUPLE, STOP] = [0x28, 0x74, 0x86, 0x87, 0x52, 0x51, 0x88, 0x89, 0x29, 0x2e];
    const orderedDict = [...global("collections", "OrderedDict"), EMPTY_TUPLE, REDUCE];
    // _rebuild_parameter(_rebuild_tensor_v2(<('storage', HalfStorage, '3', 'cpu', 6)>, 2, (2, 2), (2, 1), False, OrderedDict()), True, OrderedDict())
    const storage = [MARK, ...str("storage"), ...global("torch", "HalfStorage"), ...str("3"), ...str("cpu"), ...int(6), TUPLE, BINPERSID];
    const tensor = [
      ...global("torch._utils", "_rebuild_tensor_v2"),
      MARK, ...storage, ...int(2), ...int(2), ...int(2), TUPLE2, ...int(2), ...int(1), TUPLE2, NEWFALSE, ...orderedDict, TUPLE,
      REDUCE,
    ];
    const program = [0x80, 0x02, ...global("torch._utils", "_rebuild_parameter"), ...tensor, NEWTRUE, ...orderedDict, TUPLE3, REDUCE, STOP];
    const value = unpickle(new Uint8Array(program), { persistentLoad: torchStorageFromPersistentId });
    expect(value).toEqual(new TorchTensor(new TorchStorage("3", "float16", "cpu", 6), 2, [2, 2], [2, 1], true, true));
  });

  it("refuses persistent ids that are not PyTorch storages", () => {
    expect(() => torchStorageFromPersistentId(["module", "x"])).toThrow(/only PyTorch tensor storages/);
    expect(() => torchStorageFromPersistentId(["storage", new PickleGlobal("torch", "ComplexFloatStorage"), "0", "cpu", 1])).toThrow(
      "unsupported storage type torch.ComplexFloatStorage",
    );
  });
});
