import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { UnreadableWeightsError } from "./errors";
import { openTorchArchive, readTorchCheckpoint, readTorchMetadata } from "./torch-zip";
import type { LoadedTensor } from "./torch-zip";

const fixture = (name: string) => path.join(import.meta.dirname, "fixtures", name);
const MARKER = "/tmp/studio-unpickler-marker-do-not-create";

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: number[];
}
const expected = async (name: string): Promise<Record<string, ExpectedTensor>> => JSON.parse(await readFile(fixture(name), "utf8"));
const plain = (t: LoadedTensor) => ({ dtype: t.dtype, shape: t.shape, values: Array.from(t.data as ArrayLike<number | bigint>, Number) });

describe("readTorchCheckpoint", () => {
  it("reads a plain state_dict with fp32, fp16, bf16, int64, int32, uint8 and bool tensors, offset and strided views", async () => {
    const checkpoint = await readTorchCheckpoint(fixture("state_dict.pt"));
    const want = await expected("state_dict.expected.json");
    expect(checkpoint.kind).toBe("state_dict");
    expect([...checkpoint.tensors.keys()].sort()).toEqual(Object.keys(want).sort());
    for (const [name, tensor] of checkpoint.tensors) expect(plain(tensor), name).toEqual(want[name]);
    expect(checkpoint.tensors.get("conv.weight")!.data).toBeInstanceOf(Float32Array);
    expect(checkpoint.tensors.get("extra.half")!.data).toBeInstanceOf(Float32Array);
    expect(checkpoint.tensors.get("extra.bfloat16")!.data).toBeInstanceOf(Float32Array);
    expect(checkpoint.tensors.get("bn.num_batches_tracked")!.data).toEqual(new BigInt64Array([7n]));
    expect(plain(checkpoint.tensors.get("extra.transposed")!).values).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(checkpoint.archiveVersion).toBe("3");
  });

  it("reads an Ultralytics-style checkpoint: module names, half weights, classes, yaml, imgsz and BatchNorm settings", async () => {
    const checkpoint = await readTorchCheckpoint(fixture("ultralytics_like.pt"));
    const want = await expected("ultralytics_like.expected.json");
    expect(checkpoint).toMatchObject({
      kind: "ultralytics",
      modelClass: "ultralytics.nn.tasks.DetectionModel",
      names: ["person", "bicycle", "traffic light"],
      nc: 3,
      task: "detect",
      imgsz: [320, 320],
      stride: [4],
      epoch: -1,
      date: "2024-01-01T00:00:00",
      producerVersion: "8.1.0",
    });
    expect(checkpoint.yaml).toMatchObject({ nc: 3, scale: "n", backbone: [[-1, 1, "Conv", [4, 3, 2]], [-1, 1, "Conv", [8, 3, 2]]] });
    expect(checkpoint.trainArgs).toMatchObject({ task: "detect", epochs: 3, batch: 16 });
    expect([...checkpoint.tensors.keys()].sort()).toEqual(Object.keys(want).sort());
    // state_dict() order: a module's parameters, then its buffers, then its children.
    expect([...checkpoint.tensors.keys()].slice(0, 7)).toEqual([
      "model.0.conv.weight",
      "model.0.bn.weight",
      "model.0.bn.bias",
      "model.0.bn.running_mean",
      "model.0.bn.running_var",
      "model.0.bn.num_batches_tracked",
      "model.1.conv.weight",
    ]);
    expect(checkpoint.tensors.has("model.0.conv.weight")).toBe(true);
    expect(checkpoint.tensors.has("model.2.cv2.0.2.bias")).toBe(true);
    expect(checkpoint.tensors.has("model.2.cv3.0.1.bn.running_var")).toBe(true);
    for (const [name, tensor] of checkpoint.tensors) expect(plain(tensor), name).toEqual(want[name]);
    expect(checkpoint.tensors.get("model.0.conv.weight")!.dtype).toBe("float16");
    const batchNorms = ["model.0.bn", "model.1.bn", "model.2.cv2.0.0.bn", "model.2.cv2.0.1.bn", "model.2.cv3.0.0.bn", "model.2.cv3.0.1.bn"];
    expect(Object.keys(checkpoint.batchNorms).sort()).toEqual(batchNorms.sort());
    expect(checkpoint.batchNorms["model.2.cv3.0.1.bn"]).toEqual({ eps: 0.001, momentum: 0.03 });
  });

  it("refuses the legacy non-zip format with the reason", async () => {
    await expect(readTorchCheckpoint(fixture("legacy.pt"))).rejects.toThrow(
      new UnreadableWeightsError("legacy PyTorch format (torch.save with _use_new_zipfile_serialization=False); re-save it with a current PyTorch"),
    );
  });

  it("refuses a zip entry that declares far more bytes than the file holds", async () => {
    await expect(readTorchCheckpoint(fixture("zip_bomb.pt"))).rejects.toThrow(/zip entry archive\/data.pkl declares 20971520 bytes in a file of \d+/);
  });

  it("refuses a file that is not a zip archive", async () => {
    await expect(readTorchCheckpoint(fixture("ultralytics_like.onnx"))).rejects.toThrow(/not a zip archive/);
  });

  describe("a checkpoint whose pickle is a payload", () => {
    beforeAll(async () => rm(MARKER, { force: true }));

    it("keeps the os.system call as inert data and refuses the file without running it", async () => {
      const archive = await openTorchArchive(fixture("malicious.pt"));
      archive.close();
      expect(archive.root).toMatchObject({ className: "os.system", args: [`touch ${MARKER}`] });
      await expect(readTorchCheckpoint(fixture("malicious.pt"))).rejects.toThrow(/neither a state_dict .* nor a pickled nn.Module/);
      expect(existsSync(MARKER)).toBe(false);
    });
  });
});

describe("readTorchMetadata", () => {
  it("reads a yolov8x-sized checkpoint's metadata from its pickle alone: its 147 MB of storages are not even in the file", async () => {
    const want = JSON.parse(await readFile(fixture("outline_yolov8x_like.expected.json"), "utf8"));
    const metadata = await readTorchMetadata(fixture("outline_yolov8x_like.pt"), { requireStorages: false });
    expect(metadata).toMatchObject({
      kind: "ultralytics",
      modelClass: "ultralytics.nn.tasks.DetectionModel",
      names: want.names,
      nc: 3,
      task: "detect",
      imgsz: [640, 640],
      stride: want.stride,
      parameters: want.parameters,
      tensorCount: want.tensorCount,
      storageBytes: want.storageBytes,
      dtypes: ["float16", "int64"],
      producerVersion: "8.1.0",
    });
    expect(metadata.yaml).toMatchObject({ scale: "x", yaml_file: "yolov8x.yaml" });
    expect(metadata.batchNorms["model.19.bn"]).toEqual({ eps: 0.001, momentum: 0.03 });
    // What reading the tensors would need is not there: the metadata never asked for it.
    await expect(readTorchCheckpoint(fixture("outline_yolov8x_like.pt"))).rejects.toThrow(/tensor model\.0\.conv\.weight: storage \d+ is missing from the archive/);
  });

  it("refuses, from the central directory, a file whose storages are missing (what an import must not keep)", async () => {
    await expect(readTorchMetadata(fixture("outline_yolov8x_like.pt"))).rejects.toThrow(/^tensor model\.0\.conv\.weight: storage \d+ is missing from the archive$/);
  });

  it("says what the full read says of real checkpoints, parameters counted without BatchNorm statistics", async () => {
    for (const name of ["ultralytics_like.pt", "state_dict.pt", "zoo_resnet_fp16.pt"]) {
      const full = await readTorchCheckpoint(fixture(name));
      const metadata = await readTorchMetadata(fixture(name));
      const { tensors, ...rest } = full;
      expect(metadata, name).toMatchObject(rest);
      expect(metadata.tensorCount, name).toBe(tensors.size);
      const learned = [...tensors].filter(([key]) => !/\.(running_mean|running_var|num_batches_tracked)$/.test(key));
      expect(metadata.parameters, name).toBe(learned.reduce((sum, [, t]) => sum + t.shape.reduce((n, d) => n * d, 1), 0));
      expect(metadata.dtypes, name).toEqual([...new Set([...tensors.values()].map((t) => t.dtype))].sort());
    }
  });
});
