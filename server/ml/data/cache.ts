import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

export type CacheMode = "ram" | "disk" | false;

/** Turns a source file's bytes into decoded, resized 8-bit pixels. */
export type DecodeFn = (path: string, fileBytes: Uint8Array) => Promise<Uint8Array>;

/**
 * Where a loader gets the decoded, resized pixels of an item:
 * - false: read and decode the file every time.
 * - "ram": decode once, keep the pixels in process memory.
 * - "disk": `<cacheDir>/<sha1 of file content>-<w>x<h>.rgb` (raw HWC bytes): decoded once even across runs,
 *   and an edited file (new content, new key) is never served stale.
 */
export interface PixelStore {
  load(index: number, path: string): Promise<Uint8Array>;
  clear(): void;
}

async function readSource(sourcePath: string): Promise<Uint8Array> {
  const bytes = await readFile(sourcePath);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function readEntry(entry: string, expectedBytes: number): Promise<Uint8Array | null> {
  const bytes = await readFile(entry).catch(() => null);
  return bytes && bytes.length === expectedBytes ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
}

export function createPixelStore(
  mode: CacheMode,
  opts: { width: number; height: number; decode: DecodeFn; cacheDir?: string },
): PixelStore {
  const { decode } = opts;
  const decodeFile = async (sourcePath: string) => decode(sourcePath, await readSource(sourcePath));

  if (mode === false) return { load: (_index, sourcePath) => decodeFile(sourcePath), clear: () => {} };

  if (mode === "ram") {
    const images = new Map<number, Uint8Array>();
    return {
      async load(index, sourcePath) {
        let pixels = images.get(index);
        if (!pixels) images.set(index, (pixels = await decodeFile(sourcePath)));
        return pixels;
      },
      clear: () => images.clear(),
    };
  }

  const { cacheDir } = opts;
  if (!cacheDir) throw new Error("cache 'disk' needs a cacheDir");
  const expectedBytes = opts.width * opts.height * 3;
  const entries = new Map<number, string>(); // item index -> cache file, so later epochs skip hashing
  let madeDir: Promise<unknown> | null = null;
  return {
    async load(index, sourcePath) {
      const known = entries.get(index);
      const cached = known ? await readEntry(known, expectedBytes) : null;
      if (cached) return cached;
      const fileBytes = await readSource(sourcePath);
      const hash = createHash("sha1").update(fileBytes).digest("hex");
      const entry = path.join(cacheDir, `${hash}-${opts.width}x${opts.height}.rgb`);
      const fromEarlierRun = await readEntry(entry, expectedBytes);
      if (fromEarlierRun) {
        entries.set(index, entry);
        return fromEarlierRun;
      }
      const pixels = await decode(sourcePath, fileBytes);
      madeDir ??= mkdir(cacheDir, { recursive: true });
      await madeDir;
      // Write then rename, so a crash or a parallel run never leaves a half-written entry behind.
      const temporary = `${entry}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(temporary, pixels);
      await rename(temporary, entry);
      entries.set(index, entry);
      return pixels;
    },
    clear: () => entries.clear(),
  };
}
