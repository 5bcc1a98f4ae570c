import { stat } from "node:fs/promises";
import path from "node:path";
import yauzl from "yauzl";
import type { Entry, ZipFile } from "yauzl";
import { UnreadableWeightsError } from "./errors";

/**
 * Zip archives from users (PyTorch checkpoints, zipped TF.js models) read with caps: how many files,
 * how many bytes per file and in all, once uncompressed, and names that stay inside the archive. The
 * caps are checked on the central directory, before anything is inflated; yauzl then checks that each
 * entry inflates to exactly the size it declares, so a declared size is a real bound.
 */

export interface ZipLimits {
  maxEntries: number;
  /** Uncompressed bytes of one file. */
  maxEntryBytes: number;
  /** Uncompressed bytes of all files together. */
  maxTotalBytes: number;
  /** Uncompressed bytes of one file per byte of the archive (zip bombs); null = not checked. */
  maxExpansion: number | null;
}

export interface ZipArchive {
  /** The archive's files (folders left out) by their names. */
  entries: Map<string, Entry>;
  /** An entry's bytes, in a fresh buffer of exactly its size (typed arrays can view it). */
  read(entry: Entry): Promise<Uint8Array>;
  close(): void;
}

const MB = 1024 * 1024;

/** A size as a message says it: bytes below a megabyte, else megabytes. */
export const sizeText = (bytes: number) => (bytes < MB ? `${bytes} bytes` : `${Math.round((bytes / MB) * 10) / 10} MB`);

/** What yauzl says of a name that leaves the archive's folder, in words a user can act on. */
function explainZipError(error: Error): string {
  const traversal = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/s.exec(error.message);
  if (traversal) return `the file name ${JSON.stringify(traversal[2])} points outside the archive (${traversal[1]}); such archives are refused`;
  return `a damaged zip archive: ${error.message}`;
}

function openZip(file: string): Promise<ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (error, zip) =>
      error || !zip ? reject(new UnreadableWeightsError(`not a readable zip archive: ${error?.message ?? "unknown error"}`)) : resolve(zip),
    ),
  );
}

function listEntries(zip: ZipFile, fileBytes: number, limits: ZipLimits): Promise<Map<string, Entry>> {
  return new Promise((resolve, reject) => {
    if (zip.entryCount > limits.maxEntries) return reject(new UnreadableWeightsError(`the archive lists ${zip.entryCount} files, more than the ${limits.maxEntries} allowed`));
    const entries = new Map<string, Entry>();
    let total = 0;
    const refuse = (message: string) => reject(new UnreadableWeightsError(message));
    zip.on("entry", (entry: Entry) => {
      const name = entry.fileName;
      if (name.endsWith("/")) return zip.readEntry();
      if (name.includes("\0")) return refuse(`the file name ${JSON.stringify(name)} holds a NUL character; such archives are refused`);
      if (entries.has(name)) return refuse(`the archive holds ${name} twice`);
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        return refuse(`zip entry ${name} is ${sizeText(entry.uncompressedSize)} uncompressed, more than the ${sizeText(limits.maxEntryBytes)} allowed per file`);
      }
      if (limits.maxExpansion !== null && entry.uncompressedSize > limits.maxExpansion * Math.max(fileBytes, 1)) {
        return refuse(`zip entry ${name} declares ${entry.uncompressedSize} bytes in a file of ${fileBytes}`);
      }
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes) return refuse(`the archive's files add up to more than ${sizeText(limits.maxTotalBytes)} uncompressed`);
      entries.set(name, entry);
      zip.readEntry();
    });
    zip.on("end", () => resolve(entries));
    zip.on("error", (error: Error) => reject(new UnreadableWeightsError(explainZipError(error))));
    zip.readEntry();
  });
}

function readEntry(zip: ZipFile, entry: Entry): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) return reject(new UnreadableWeightsError(`cannot read ${entry.fileName}: ${error?.message ?? "no stream"}`));
      const bytes = new Uint8Array(entry.uncompressedSize);
      let filled = 0;
      stream.on("data", (chunk: Buffer) => {
        if (filled + chunk.length > bytes.length) return stream.destroy(new Error("more data than the zip entry declares"));
        bytes.set(chunk, filled);
        filled += chunk.length;
      });
      stream.on("error", (e: Error) => reject(new UnreadableWeightsError(`cannot read ${entry.fileName}: ${e.message}`)));
      stream.on("end", () => resolve(bytes));
    });
  });
}

/** Opens an archive and lists its files within `limits`; UnreadableWeightsError saying which cap it broke. */
export async function openZipArchive(file: string, limits: ZipLimits): Promise<ZipArchive> {
  const fileBytes = (await stat(file)).size;
  const zip = await openZip(file);
  try {
    const entries = await listEntries(zip, fileBytes, limits);
    return { entries, read: (entry) => readEntry(zip, entry), close: () => zip.close() };
  } catch (error) {
    zip.close();
    throw error;
  }
}

/**
 * A zipped TF.js model folder: model.json and 4 MB weight shards. Loading one holds its shards in memory,
 * so the total is the cap that matters; a folder of ten thousand shards is no model.
 */
export const TFJS_ZIP_LIMITS: ZipLimits = { maxEntries: 10_000, maxEntryBytes: 512 * MB, maxTotalBytes: 1024 * MB, maxExpansion: null };

/** A path a manifest may name (model.json's shards): relative, and inside the manifest's folder. */
export function isRelativeInside(name: unknown): name is string {
  if (typeof name !== "string" || name === "" || name.includes("\\") || name.includes("\0") || path.posix.isAbsolute(name)) return false;
  return !path.posix.normalize(name).split("/").includes("..");
}
