import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { solidImage, writeZip } from "./testing";
import { extractDatasetZip, UnsafeArchive, unsafeNameReason } from "./zip";

let work: string;
let png: Buffer;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "datasets-zip-"));
  png = await solidImage(32, 32, [200, 10, 10]);
});

let counter = 0;
const fresh = () => path.join(work, `case-${++counter}`);

/** yazl refuses unsafe names, so the crafted archive is written with a same-length name and patched. */
async function craft(entries: { name: string; content: Buffer | string; mode?: number; compress?: boolean }[], renames: [string, string][] = []) {
  const file = path.join(work, `crafted-${++counter}.zip`);
  await writeZip(file, entries);
  let bytes = await readFile(file);
  for (const [from, to] of renames) {
    expect(Buffer.byteLength(from)).toBe(Buffer.byteLength(to));
    const fromBuf = Buffer.from(from);
    let at = bytes.indexOf(fromBuf);
    expect(at).toBeGreaterThanOrEqual(0);
    while (at >= 0) {
      Buffer.from(to).copy(bytes, at);
      at = bytes.indexOf(fromBuf, at + 1);
    }
  }
  await writeFile(file, bytes);
  bytes = Buffer.alloc(0);
  return file;
}

async function expectRejected(zip: string, pattern: RegExp, limits = {}) {
  const dest = fresh();
  await expect(extractDatasetZip(zip, dest, { limits })).rejects.toSatisfy((err: unknown) => err instanceof UnsafeArchive && pattern.test((err as Error).message));
  return dest;
}

describe("extractDatasetZip", () => {
  it("extracts images and labels, drops a common top folder, lists skipped files", async () => {
    const zip = await craft([
      { name: "top/cat/1.png", content: png },
      { name: "top/dog/1.png", content: png },
      { name: "top/labels.txt", content: "cat\ndog" },
      { name: "top/run.sh", content: "#!/bin/sh" },
      { name: "top/.DS_Store", content: "x" },
      { name: "__MACOSX/top/._1.png", content: "x" },
    ]);
    const dest = fresh();
    const result = await extractDatasetZip(zip, dest);
    expect(result.files.sort()).toEqual(["cat/1.png", "dog/1.png", "labels.txt"]);
    expect(result.skipped.sort()).toEqual(["__MACOSX/top/._1.png", "top/.DS_Store", "top/run.sh"]);
    expect((await readdir(dest)).sort()).toEqual(["cat", "dog", "labels.txt"]);
    expect(result.bytes).toBe(png.length * 2 + 7);
  });

  it("names every unsafe path rule", () => {
    expect(unsafeNameReason("../x")).toMatch(/'\.\.'/);
    expect(unsafeNameReason("a/../../x")).toMatch(/'\.\.'/);
    expect(unsafeNameReason("/etc/x")).toMatch(/absolute/);
    expect(unsafeNameReason("C:/x")).toMatch(/absolute/);
    expect(unsafeNameReason("a\\b.png")).toMatch(/backslash/);
    expect(unsafeNameReason("a/b.png")).toBeNull();
  });

  it("rejects traversal ../x", async () => {
    const dest = await expectRejected(await craft([{ name: "a/1.png", content: png }, { name: "zz/x.png", content: png }], [["zz/x.png", "../x.png"]]), /'\.\.\/x\.png'.*'\.\.'/);
    expect(existsSync(path.join(dest, "..", "x.png"))).toBe(false);
  });

  it("rejects an absolute path /x", async () => {
    await expectRejected(await craft([{ name: "a/1.png", content: png }, { name: "zzzzzz.png", content: png }], [["zzzzzz.png", "/tmp/x.png"]]), /absolute path/);
  });

  it("rejects a backslash name", async () => {
    await expectRejected(await craft([{ name: "a/1.png", content: png }, { name: "b/zz.png", content: png }], [["b/zz.png", "b\\zz.png"]]), /backslash/);
  });

  it("rejects a symlink entry", async () => {
    await expectRejected(await craft([{ name: "a/1.png", content: png }, { name: "a/link.png", content: "/etc/passwd", mode: 0o120777 }]), /'a\/link\.png'.*symbolic link/);
  });

  it("rejects duplicate names", async () => {
    await expectRejected(await craft([{ name: "a/1.png", content: png }, { name: "a/2.png", content: png }], [["a/2.png", "a/1.png"]]), /duplicate name/);
  });

  it("rejects too many entries", async () => {
    const entries = Array.from({ length: 6 }, (_, i) => ({ name: `a/${i}.png`, content: png }));
    await expectRejected(await craft(entries), /6 entries; the limit is 5/, { maxEntries: 5 });
  });

  it("rejects an archive whose total size exceeds the cap", async () => {
    const noise = crypto.randomBytes(20_000);
    await expectRejected(await craft([{ name: "a/big.png", content: noise, compress: false }]), /expands to 20000 bytes; the limit is 10000/, { maxTotalBytes: 10_000 });
  });

  it("counts bytes as actually inflated, not as declared", async () => {
    const zip = await craft([{ name: "a/big.png", content: Buffer.from("0123456789".repeat(2_000)) }]);
    // Lie in the central directory: declare 100 uncompressed bytes for an entry that inflates to 20000.
    const bytes = await readFile(zip);
    const central = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes.writeUInt32LE(100, central + 24);
    await writeFile(zip, bytes);
    const dest = await expectRejected(zip, /big\.png|expands|extract/, { maxTotalBytes: 10_000 });
    const written = existsSync(path.join(dest, "a", "big.png")) ? (await readFile(path.join(dest, "a", "big.png"))).length : 0;
    expect(written).toBeLessThanOrEqual(10_000 + 65_536);
  });

  it("rejects a high compression ratio (zip bomb)", async () => {
    await expectRejected(await craft([{ name: "a/zeros.png", content: Buffer.alloc(4 * 1024 * 1024) }]), /expands \d+x; the limit is 200x/);
  });

  it("rejects a file that is not a zip", async () => {
    const file = path.join(work, "not.zip");
    await writeFile(file, "hello");
    await expectRejected(file, /not a readable zip archive/);
  });
});
