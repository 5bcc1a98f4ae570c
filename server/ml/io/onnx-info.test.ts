import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeModel } from "../export/onnx-proto";
import { UnreadableWeightsError } from "./errors";
import { readOnnxInfo } from "./onnx-info";
import { parsePythonLiteral } from "./python-literal";

const fixture = (name: string) => path.join(import.meta.dirname, "fixtures", name);
const scratch = mkdtemp(path.join(tmpdir(), "onnx-info-"));
afterAll(async () => rm(await scratch, { recursive: true, force: true }));

describe("readOnnxInfo", () => {
  it("reads the interface and Ultralytics metadata of an exported detector", async () => {
    const info = await readOnnxInfo(fixture("ultralytics_like.onnx"));
    expect(info.inputs).toEqual([{ name: "images", elementType: "float", shape: [1, 3, 64, 64] }]);
    expect(info.outputs).toEqual([{ name: "output0", elementType: "float", shape: [1, 6, 84] }]);
    expect(info.opsets).toEqual([{ domain: "", version: 12 }]);
    expect(info.irVersion).toBe(7);
    expect(info.producerName).toBe("pytorch");
    expect(info.metadata.author).toBe("Ultralytics");
    expect(info).toMatchObject({
      task: "detect",
      taskSource: "metadata",
      names: ["person", "bicycle's wheel"],
      nc: 2,
      imgsz: [64, 64],
      stride: 32,
      batch: 1,
    });
  });

  it("infers a detector from its [1, 4 + nc, anchors] output when no metadata says", async () => {
    const info = await readOnnxInfo(fixture("detect_no_metadata.onnx"));
    expect(info.metadata).toEqual({});
    expect(info).toMatchObject({ task: "detect", taskSource: "outputs", nc: 2, names: null, imgsz: [64, 64], stride: null });
  });

  it("infers a classifier from [batch, nc], keeps symbolic dims and leaves initializers out of the inputs", async () => {
    const info = await readOnnxInfo(fixture("classify_dynamic.onnx"));
    expect(info.inputs).toEqual([{ name: "images", elementType: "float", shape: ["batch", 3, 32, 32] }]);
    expect(info.outputs[0].shape).toEqual(["batch", 5]);
    expect(info).toMatchObject({ task: "classify", taskSource: "outputs", nc: 5, imgsz: [32, 32] });
  });

  it("skips large initializers instead of decoding them", async () => {
    const weights = new Uint8Array(8 * 1024 * 1024).fill(7);
    const file = path.join(await scratch, "big.onnx");
    await writeFile(
      file,
      encodeModel({
        ir_version: 8,
        opset_import: [{ domain: "", version: 17 }],
        producer_name: "test",
        producer_version: "1",
        graph: {
          name: "g",
          node: [],
          initializer: [{ name: "w", dims: [weights.length / 4], data_type: 1, raw_data: weights }],
          input: [{ name: "x", type: { tensor_type: { elem_type: 10, shape: { dim: [{ dim_param: "n" }, { dim_value: 3 }] } } } }],
          output: [{ name: "y", type: { tensor_type: { elem_type: 7, shape: { dim: [] } } } }],
        },
        metadata_props: [{ key: "names", value: "not a literal {" }],
      }),
    );
    const info = await readOnnxInfo(file);
    expect(info.inputs).toEqual([{ name: "x", elementType: "float16", shape: ["n", 3] }]);
    expect(info.outputs).toEqual([{ name: "y", elementType: "int64", shape: [] }]);
    expect(info.names).toBeNull();
    expect(info.task).toBeNull();
  });

  it("refuses a file that is not an ONNX model", async () => {
    await expect(readOnnxInfo(fixture("state_dict.pt"))).rejects.toThrow(UnreadableWeightsError);
  });
});

describe("parsePythonLiteral", () => {
  it("parses dicts, lists, tuples, strings with escapes, numbers and constants", () => {
    expect(parsePythonLiteral("{0: 'person', 1: \"bicycle's\", 2: 'a\\'b\\n'}")).toEqual(
      new Map([
        [0, "person"],
        [1, "bicycle's"],
        [2, "a'b\n"],
      ]),
    );
    expect(parsePythonLiteral("[640, 640]")).toEqual([640, 640]);
    expect(parsePythonLiteral("(1, -2.5e3, True, False, None,)")).toEqual([1, -2500, true, false, null]);
    expect(parsePythonLiteral("  'x\\x41\\u00e9'  ")).toBe("xAé");
  });

  it("refuses anything that is not a literal, so nothing can be evaluated", () => {
    expect(() => parsePythonLiteral("__import__('os').system('x')")).toThrow(/not a Python literal/);
    expect(() => parsePythonLiteral("[1, 2")).toThrow(/not a Python literal/);
    expect(() => parsePythonLiteral("{0: 'a'} extra")).toThrow(/trailing text/);
  });
});
