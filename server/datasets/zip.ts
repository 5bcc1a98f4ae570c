// Safe extraction of an uploaded dataset archive. Everything is checked against the central directory
// before a byte is written; sizes are then enforced again on the bytes actually inflated.

import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { isImageFile } from "@/server/ml/data/imagefolder";
import { Invalid } from "@/server/errors";

/** Label and metadata files the format readers use; anything else that is not an image is skipped. */
const LABEL_EXTENSIONS = [".txt", ".xml", ".json", ".yaml", ".yml"];

export function isDatasetFile(name: string): boolean {
  return isImageFile(name) || LABEL_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

export interface ZipLimits {
  maxEntries: number;
  /** Total bytes written, counted as they are inflated (declared sizes can lie). */
  maxTotalBytes: number;
  /** Uncompressed / compressed, per entry, for entries larger than RATIO_MIN_BYTES. */
  maxRatio: number;
}

const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 200_000, maxTotalBytes: 20 * 1024 ** 3, maxRatio: 200 };

/** Small entries compress absurdly well (a 1 KiB run of zeros) without being a threat. */
const RATIO_MIN_BYTES = 1024 * 1024;

/** The archive is refused as a whole; the message names the entry and the rule. */
export class UnsafeArchive extends Invalid {}

export interface ExtractResult {
  /** Files written, relative to the destination (common top folder removed). */
  files: string[];
  /** Entries not written because they are neither images nor label files. */
  skipped: string[];
  bytes: number;
}

interface PlannedEntry {
  entry: yauzl.Entry;
  name: string;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) =>
      err || !zip ? reject(new UnsafeArchive(`not a readable zip archive: ${err?.message ?? "unknown error"}`)) : resolve(zip),
    ),
  );
}

function readEntries(zip: yauzl.ZipFile, limits: ZipLimits): Promise<yauzl.Entry[]> {
  if (zip.entryCount > limits.maxEntries) return Promise.reject(new UnsafeArchive(`archive has ${zip.entryCount} entries; the limit is ${limits.maxEntries}`));
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on("entry", (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on("end", () => resolve(entries));
    zip.on("error", (err: Error) => reject(new UnsafeArchive(`corrupt zip archive: ${err.message}`)));
    zip.readEntry();
  });
}

/** Why an entry name is unsafe, or null. */
export function unsafeNameReason(name: string): string | null {
  if (name.length === 0) return "empty name";
  if (name.includes("\0")) return "NUL byte in name";
  if (name.includes("\\")) return "backslash in name";
  if (name.startsWith("/") || /^[a-zA-Z]:/.test(name)) return "absolute path";
  if (name.split("/").some((part) => part === "..")) return "'..' in path";
  return null;
}

function isSymlink(entry: yauzl.Entry): boolean {
  const madeBy = entry.versionMadeBy >> 8;
  // Unix (3) and macOS (19) archivers keep the file mode in the high half of the external attributes.
  return (madeBy === 3 || madeBy === 19) && ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;
}

/** The folder every entry lives in when the archive wraps the dataset in one (my-data/cat/1.jpg), else "". */
function commonTopFolder(names: string[]): string {
  const files = names.filter((n) => !n.endsWith("/") && !n.startsWith("__MACOSX/"));
  if (files.length === 0) return "";
  const first = files[0].split("/")[0];
  return files.every((n) => n.includes("/") && n.split("/")[0] === first) ? `${first}/` : "";
}

function plan(entries: yauzl.Entry[], limits: ZipLimits): { planned: PlannedEntry[]; skipped: string[] } {
  const seen = new Set<string>();
  const names = entries.map((e) => (e.fileName as unknown as Buffer).toString("utf8"));
  names.forEach((name, i) => {
    const entry = entries[i];
    const reason = unsafeNameReason(name);
    if (reason) throw new UnsafeArchive(`unsafe archive entry '${name}': ${reason}`);
    if (isSymlink(entry)) throw new UnsafeArchive(`unsafe archive entry '${name}': symbolic link`);
    const key = name.replace(/\/+$/, "");
    if (seen.has(key)) throw new UnsafeArchive(`unsafe archive entry '${name}': duplicate name`);
    seen.add(key);
    if (entry.uncompressedSize > RATIO_MIN_BYTES && entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)) {
      throw new UnsafeArchive(`archive entry '${name}' expands ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}x; the limit is ${limits.maxRatio}x`);
    }
  });
  // A file and a folder of the same name cannot both exist on disk.
  for (const key of seen) {
    const parts = key.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const parentEntry = names.findIndex((n) => n === parent);
      if (parentEntry >= 0) throw new UnsafeArchive(`unsafe archive entry '${key}': '${parent}' is also a file`);
    }
  }
  checkOverlaps(entries, names);
  const declared = entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
  if (declared > limits.maxTotalBytes) throw new UnsafeArchive(`archive expands to ${declared} bytes; the limit is ${limits.maxTotalBytes}`);

  const top = commonTopFolder(names);
  const planned: PlannedEntry[] = [];
  const skipped: string[] = [];
  names.forEach((name, i) => {
    if (name.endsWith("/")) return;
    const relative = name.slice(top.length);
    const hidden = relative.split("/").some((part) => part.startsWith(".") || part === "__MACOSX");
    if (hidden || !isDatasetFile(relative)) skipped.push(name);
    else planned.push({ entry: entries[i], name: relative });
  });
  return { planned, skipped };
}

/**
 * Two entries whose data overlap are how non-recursive zip bombs reuse one compressed stream many
 * times; a normal archive stores each entry's local header and data after the previous one's.
 */
function checkOverlaps(entries: yauzl.Entry[], names: string[]): void {
  const order = entries.map((e, i) => ({ e, name: names[i] })).sort((a, b) => a.e.relativeOffsetOfLocalHeader - b.e.relativeOffsetOfLocalHeader);
  for (let i = 1; i < order.length; i++) {
    const prev = order[i - 1];
    const localHeaderBytes = 30 + Buffer.byteLength(prev.name);
    const prevEnd = prev.e.relativeOffsetOfLocalHeader + localHeaderBytes + prev.e.compressedSize;
    if (order[i].e.relativeOffsetOfLocalHeader < prevEnd) {
      throw new UnsafeArchive(`unsafe archive entry '${order[i].name}': its data overlaps entry '${prev.name}'`);
    }
  }
}

function openStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(err) : resolve(stream))));
}

/**
 * Extracts the images and label files of `zipFile` into `dest` (which must be empty or missing).
 * `onProgress` is called after each file; throwing from it (a cancelled import) stops the extraction.
 */
export async function extractDatasetZip(
  zipFile: string,
  dest: string,
  options: { limits?: Partial<ZipLimits>; onProgress?: (done: number, total: number) => Promise<void> | void } = {},
): Promise<ExtractResult> {
  const limits = { ...DEFAULT_ZIP_LIMITS, ...options.limits };
  const zip = await openZip(zipFile);
  try {
    const { planned, skipped } = plan(await readEntries(zip, limits), limits);
    let written = 0;
    const files: string[] = [];
    for (const [n, { entry, name }] of planned.entries()) {
      const target = path.join(dest, name);
      await mkdir(path.dirname(target), { recursive: true });
      let entryBytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          entryBytes += chunk.length;
          written += chunk.length;
          if (written > limits.maxTotalBytes) return done(new UnsafeArchive(`archive expands beyond ${limits.maxTotalBytes} bytes (stopped at '${name}')`));
          if (entryBytes > RATIO_MIN_BYTES && entryBytes > limits.maxRatio * Math.max(1, entry.compressedSize)) {
            return done(new UnsafeArchive(`archive entry '${name}' expands more than ${limits.maxRatio}x`));
          }
          done(null, chunk);
        },
      });
      try {
        await pipeline(await openStream(zip, entry), counter, createWriteStream(target, { flags: "wx" }));
      } catch (err) {
        if (err instanceof UnsafeArchive) throw err;
        throw new UnsafeArchive(`cannot extract archive entry '${name}': ${(err as Error).message}`);
      }
      files.push(name);
      await options.onProgress?.(n + 1, planned.length);
    }
    return { files, skipped, bytes: written };
  } finally {
    zip.close();
  }
}
