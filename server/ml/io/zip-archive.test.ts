import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnreadableWeightsError } from "./errors";
import { isRelativeInside, openZipArchive, TFJS_ZIP_LIMITS, type ZipLimits } from "./zip-archive";
import { declareSize, renameInZip, zipBytes } from "./zip-testing";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "zip-archive-"));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const LIMITS: ZipLimits = { maxEntries: 4, maxEntryBytes: 1000, maxTotalBytes: 2500, maxExpansion: null };

/** A zip of `files`, each name of `rename` then rewritten in place. */
async function craftedZip(name: string, files: Record<string, Buffer>, rename: Record<string, string> = {}, compress = false): Promise<string> {
  let bytes = await zipBytes(files, compress);
  for (const [from, to] of Object.entries(rename)) bytes = renameInZip(bytes, from, to);
  const file = path.join(work, name);
  await writeFile(file, bytes);
  return file;
}

const refusal = (file: string, limits = LIMITS) => openZipArchive(file, limits).then(
  (zip) => {
    zip.close();
    throw new Error("the archive was opened");
  },
  (error: Error) => error,
);

describe("a zip archive from a user", () => {
  it("opens within the caps and reads each file back exactly", async () => {
    const file = await craftedZip("fine.zip", { "model/model.json": Buffer.from("{}"), "model/a.bin": Buffer.alloc(900, 7) }, {}, true);
    const zip = await openZipArchive(file, LIMITS);
    try {
      expect([...zip.entries.keys()].sort()).toEqual(["model/a.bin", "model/model.json"]);
      expect(Buffer.from(await zip.read(zip.entries.get("model/a.bin")!))).toEqual(Buffer.alloc(900, 7));
    } finally {
      zip.close();
    }
  });

  it("is refused with more files than allowed, before any is read", async () => {
    const files = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}.bin`, Buffer.from([i])]));
    const error = await refusal(await craftedZip("many.zip", files));
    expect(error).toBeInstanceOf(UnreadableWeightsError);
    expect(error.message).toBe("the archive lists 5 files, more than the 4 allowed");
  });

  it("is refused when one file is larger than the per-file cap once uncompressed, however small it is compressed", async () => {
    const error = await refusal(await craftedZip("big-entry.zip", { "small.bin": Buffer.alloc(10), "zeros.bin": Buffer.alloc(5000) }, {}, true));
    expect(error.message).toMatch(/^zip entry zeros\.bin is 5000 bytes uncompressed, more than the 1000 bytes allowed per file$/);
    const custom = await refusal(await craftedZip("big-entry-mb.zip", { "zeros.bin": Buffer.alloc(3 * 1024 * 1024) }, {}, true), { ...LIMITS, maxEntryBytes: 2 * 1024 * 1024, maxTotalBytes: 8 * 1024 * 1024 });
    expect(custom.message).toBe("zip entry zeros.bin is 3 MB uncompressed, more than the 2 MB allowed per file");
  });

  it("is refused on what the central directory declares, before inflating anything (the TF.js caps)", async () => {
    const file = path.join(work, "declared.zip");
    await writeFile(file, declareSize(await zipBytes({ "model.json": "{}", "shard.bin": Buffer.alloc(16) }, true), "shard.bin", 0x7fffffff));
    expect((await refusal(file, TFJS_ZIP_LIMITS)).message).toBe("zip entry shard.bin is 2048 MB uncompressed, more than the 512 MB allowed per file");
    const shards = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`s${i}.bin`, Buffer.alloc(4)]));
    let bytes = await zipBytes(shards, true);
    for (const name of Object.keys(shards)) bytes = declareSize(bytes, name, 400 * 1024 * 1024);
    await writeFile(file, bytes);
    expect((await refusal(file, TFJS_ZIP_LIMITS)).message).toBe("the archive's files add up to more than 1024 MB uncompressed");
  });

  it("fails the read of an entry that inflates to other than it declares", async () => {
    const file = path.join(work, "liar.zip");
    await writeFile(file, declareSize(await zipBytes({ "a.bin": Buffer.alloc(600, 1) }, true), "a.bin", 10));
    const zip = await openZipArchive(file, LIMITS);
    try {
      await expect(zip.read(zip.entries.get("a.bin")!)).rejects.toThrow(UnreadableWeightsError);
    } finally {
      zip.close();
    }
  });

  it("is refused when the files add up to more than the total cap", async () => {
    const error = await refusal(await craftedZip("total.zip", { "a.bin": Buffer.alloc(900), "b.bin": Buffer.alloc(900), "c.bin": Buffer.alloc(900) }));
    expect(error.message).toMatch(/^the archive's files add up to more than 2500 bytes uncompressed$/);
  });

  it("is refused when an entry inflates far beyond the archive's size (a zip bomb)", async () => {
    const error = await refusal(await craftedZip("bomb.zip", { "zeros.bin": Buffer.alloc(1000) }, {}, true), { ...LIMITS, maxExpansion: 2 });
    expect(error.message).toMatch(/^zip entry zeros\.bin declares 1000 bytes in a file of \d+$/);
  });

  it("is refused when a name climbs out of the archive, is absolute, uses backslashes to climb, or appears twice", async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ["dotdot.zip", { "xx/evil.txt": "../evil.txt" }, /^the file name "\.\.\/evil\.txt" points outside the archive \(invalid relative path\)/],
      ["nested.zip", { "model/xx/xx/e.txt": "model/../../e.txt" }, /"model\/\.\.\/\.\.\/e\.txt" points outside the archive/],
      ["absolute.zip", { "xetc/evil.txt": "/etc/evil.txt" }, /^the file name "\/etc\/evil\.txt" points outside the archive \(absolute path\)/],
      ["backslash.zip", { "xx_evil.txt": "..\\evil.txt" }, /points outside the archive/],
      ["twice.zip", { "b.bin": "a.bin" }, /^the archive holds a\.bin twice$/],
    ];
    for (const [name, rename, message] of cases) {
      const source = Object.keys(rename)[0];
      const files = { "a.bin": Buffer.from("a"), [source]: Buffer.from("payload") };
      const error = await refusal(await craftedZip(name, files, rename));
      expect(error, name).toBeInstanceOf(UnreadableWeightsError);
      expect(error.message, name).toMatch(message);
    }
  });
});

describe("names a manifest may list", () => {
  it("stay relative and inside the manifest's folder", () => {
    for (const ok of ["group1-shard1of1.bin", "shards/a.bin", "./a.bin", "a/../b.bin"]) expect(isRelativeInside(ok), ok).toBe(true);
    for (const bad of ["../a.bin", "a/../../b.bin", "/etc/passwd", "..\\a.bin", "", "a\0b", 7, null]) expect(isRelativeInside(bad), String(bad)).toBe(false);
  });
});
