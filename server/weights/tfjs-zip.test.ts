import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Invalid } from "@/server/errors";
import { declareSize, renameInZip, zipBytes } from "@/server/ml/io/zip-testing";
import { inspectWeightsFile } from "./inspect";
import { tfjsZip } from "./testing";
import { loadTfjsModel } from "./validate-model";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "tfjs-zip-"));
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function refusal(name: string, bytes: Buffer): Promise<Invalid> {
  const file = path.join(work, name);
  await writeFile(file, bytes);
  const error = await inspectWeightsFile(file, name).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Invalid);
  expect(Object.keys((error as Invalid).fields ?? {})).toEqual(["file"]);
  return error as Invalid;
}

describe("an uploaded TF.js model zip", () => {
  it("is read when it is a model folder within the caps", async () => {
    const file = path.join(work, "ok.zip");
    await writeFile(file, await tfjsZip());
    await expect(inspectWeightsFile(file, "ok.zip")).resolves.toMatchObject({ format: "tfjs", inputShape: ["?", 32, 32, 3] });
  });

  it("is refused, naming the reason, when an entry's name climbs out of the archive", async () => {
    const bytes = renameInZip(await tfjsZip({ "xx/notes.txt": "hello" }), "xx/notes.txt", "../notes.txt");
    expect((await refusal("climb.zip", bytes)).message).toBe('climb.zip cannot be read: the file name "../notes.txt" points outside the archive (invalid relative path); such archives are refused');
  });

  it("is refused when model.json lists a shard outside its folder", async () => {
    const json = JSON.stringify({ format: "layers-model", modelTopology: {}, weightsManifest: [{ paths: ["../../etc/passwd"], weights: [] }] });
    expect((await refusal("shard.zip", await tfjsZip({ "model/model.json": json }))).message).toMatch(/model\.json lists the weights file "\.\.\/\.\.\/etc\/passwd", which is not a file beside it/);
  });

  it("is refused when its files declare more than the caps uncompressed, or are too many", async () => {
    const huge = declareSize(await zipBytes({ "model/model.json": "{}", "model/a.bin": Buffer.alloc(8) }, true), "model/a.bin", 0x7fffffff);
    expect((await refusal("huge.zip", huge)).message).toMatch(/zip entry model\/a\.bin is 2048 MB uncompressed, more than the 512 MB allowed per file/);
    const many = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`model/s${i}.bin`, ""]));
    expect((await refusal("many.zip", await zipBytes(many))).message).toMatch(/the archive lists 10001 files, more than the 10000 allowed/);
  });

  it("is opened for validation, export and inference within the same caps", async () => {
    const load = async (name: string, bytes: Buffer) => {
      const file = path.join(work, name);
      await writeFile(file, bytes);
      return loadTfjsModel({ file, format: "tfjs", task: "classify", classNames: ["a", "b"], model: null, imgsz: null });
    };
    const json = JSON.stringify({ format: "layers-model", modelTopology: {}, weightsManifest: [{ paths: ["../secret.bin"], weights: [] }] });
    await expect(load("load-shard.zip", await tfjsZip({ "model/model.json": json }))).rejects.toThrow(/lists "\.\.\/secret\.bin", which is not a file beside it/);
    const huge = declareSize(await zipBytes({ "model/model.json": "{}", "model/a.bin": Buffer.alloc(8) }, true), "model/a.bin", 0x7fffffff);
    const error = await load("load-huge.zip", huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Invalid);
    expect((error as Invalid).message).toMatch(/the TF\.js archive cannot be read: zip entry model\/a\.bin is 2048 MB uncompressed/);
  });
});
