import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeModel, TensorDataType, type ValueInfoProtoData } from "@/server/ml/export/onnx-proto";
import { RUN_BATCH, RunQueue, type BatchRun, type RunCounts } from "./run-queue";
import { inferenceFixture } from "./testing";

let work: string;
let detector: ort.InferenceSession;
let neighbourly: ort.InferenceSession;

const floats = (name: string, dims: (number | string)[]): ValueInfoProtoData => ({
  name,
  type: { tensor_type: { elem_type: TensorDataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } } },
});

/** A "classifier" whose scores for an image are its channel means plus the whole batch's: batch-dependent. */
function neighbourlyModel(): Uint8Array {
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: "", version: 13 }],
    producer_name: "run-queue.test",
    producer_version: "1",
    graph: {
      name: "neighbourly",
      node: [
        { name: "mean", op_type: "ReduceMean", input: ["images"], output: ["means"], attribute: [{ name: "axes", type: 7, ints: [2, 3] }, { name: "keepdims", type: 2, i: 0 }] },
        { name: "batch", op_type: "ReduceSum", input: ["means", "axis0"], output: ["total"], attribute: [{ name: "keepdims", type: 2, i: 1 }] },
        { name: "add", op_type: "Add", input: ["means", "total"], output: ["scores"], attribute: [] },
      ],
      initializer: [{ name: "axis0", dims: [1], data_type: TensorDataType.INT64, raw_data: new Uint8Array(new BigInt64Array([0n]).buffer) }],
      input: [floats("images", ["batch", 3, 8, 8])],
      output: [floats("scores", ["batch", 3])],
    },
    metadata_props: [],
  });
}

function sessionRun(session: ort.InferenceSession): BatchRun {
  return async (input, dims) => {
    const out = (await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", input, dims) }))[session.outputNames[0]];
    return { type: out.type, dims: [...out.dims], data: out.data as Float32Array };
  };
}

function image(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: 3 * size * size }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 1000);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "run-queue-"));
  detector = await ort.InferenceSession.create(inferenceFixture("ultralytics_detect.onnx"));
  const file = path.join(work, "neighbourly.onnx");
  await writeFile(file, neighbourlyModel());
  neighbourly = await ort.InferenceSession.create(file);
});

afterAll(async () => {
  await detector?.release();
  await neighbourly?.release();
  await rm(work, { recursive: true, force: true });
});

describe("the run queue", () => {
  it("coalesces requests waiting together into one run, each answered with what it gets alone", async () => {
    const counts: RunCounts = { runs: 0, images: 0 };
    const queue = new RunQueue(sessionRun(detector), true, counts);
    const inputs = [1, 2, 3, 4, 5].map((seed) => image(64, seed));
    const together = await Promise.all(inputs.map((input) => queue.submit(input, [1, 3, 64, 64])));
    // Five single images in one run, plus the check of its size: the first of them run alone.
    expect(counts).toEqual({ runs: 2, images: 6 });
    expect(together.map((output) => output.runImages)).toEqual([1, 5, 5, 5, 5]);
    const alone = await Promise.all(inputs.map((input) => sessionRun(detector)(input, [1, 3, 64, 64])));
    together.forEach((output, i) => {
      expect(output.dims).toEqual(alone[i].dims);
      expect(output.data).toEqual(alone[i].data);
    });
    // A size already checked is trusted: one run.
    await Promise.all([6, 7, 8, 9, 10].map((seed) => queue.submit(image(64, seed), [1, 3, 64, 64])));
    expect(counts).toEqual({ runs: 3, images: 11 });
    // A multi-image request is never split, and a run carries at most RUN_BATCH images: 5 + 3 (checked), then 2.
    const sizes = await Promise.all([5, 3, 2].map((n, i) => queue.submit(new Float32Array(n * 3 * 64 * 64).fill(i / 3), [n, 3, 64, 64])));
    expect(RUN_BATCH).toBe(8);
    expect(sizes.map((output) => [output.dims[0], output.runImages])).toEqual([[5, 5], [3, 8], [2, 2]]);
  });

  it("turns coalescing off for a model whose answer for an image depends on the images run with it", async () => {
    const counts: RunCounts = { runs: 0, images: 0 };
    const queue = new RunQueue(sessionRun(neighbourly), true, counts);
    const inputs = [1, 2, 3].map((seed) => image(8, seed));
    const together = await Promise.all(inputs.map((input) => queue.submit(input, [1, 3, 8, 8])));
    const alone = await Promise.all(inputs.map((input) => sessionRun(neighbourly)(input, [1, 3, 8, 8])));
    together.forEach((output, i) => expect(output.data).toEqual(alone[i].data));
    expect(together.map((output) => output.runImages)).toEqual([1, 1, 1]);
    // The batch of three, then each alone; from then on one run per request.
    expect(counts).toEqual({ runs: 4, images: 6 });
    await Promise.all(inputs.map((input) => queue.submit(input, [1, 3, 8, 8])));
    expect(counts).toEqual({ runs: 7, images: 9 });
  });

  it("never coalesces a model with a fixed batch, and gives a failing request its own error", async () => {
    const counts: RunCounts = { runs: 0, images: 0 };
    const queue = new RunQueue(sessionRun(detector), false, counts);
    await Promise.all([1, 2].map((seed) => queue.submit(image(64, seed), [1, 3, 64, 64])));
    expect(counts).toEqual({ runs: 2, images: 2 });
    const coalescing = new RunQueue(sessionRun(detector), true);
    const [good, bad] = await Promise.allSettled([coalescing.submit(image(64, 1), [1, 3, 64, 64]), coalescing.submit(new Float32Array(5), [1, 3, 64, 64])]);
    expect(good.status).toBe("fulfilled");
    expect(bad.status).toBe("rejected");
  });
});
