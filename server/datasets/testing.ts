// Tiny generated datasets and archives for tests, the e2e run and the benchmark (never shipped data).

import { createWriteStream } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import sharp from "sharp";
import yazl from "yazl";

export async function solidImage(width: number, height: number, rgb: [number, number, number], format: "png" | "jpeg" = "png"): Promise<Buffer> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  return format === "png" ? img.png().toBuffer() : img.jpeg({ quality: 85 }).toBuffer();
}

/** Writes `files` (relative path → content) under `root`. */
export async function writeTree(root: string, files: Record<string, Buffer | string>): Promise<string> {
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, rel);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
  }
  return root;
}

async function listFiles(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, r)));
    else out.push(r);
  }
  return out.sort();
}

export interface ZipEntrySpec {
  name: string;
  content: Buffer | string;
  mode?: number;
  compress?: boolean;
}

/** Writes a zip of `entries`; yazl refuses unsafe names, so crafted archives rename entries afterwards. */
export async function writeZip(file: string, entries: ZipEntrySpec[]): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    zip.addBuffer(Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content), e.name, { mode: e.mode, compress: e.compress ?? true, mtime: new Date(2024, 0, 1) });
  }
  zip.end();
  await mkdir(path.dirname(file), { recursive: true });
  await pipeline(zip.outputStream, createWriteStream(file));
  return file;
}

/** Zips a folder's files (paths relative to it, optionally under `prefix/`). */
export async function zipFolder(root: string, file: string, prefix = ""): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const rel of await listFiles(root)) zip.addFile(path.join(root, rel), prefix ? `${prefix}/${rel}` : rel, { compress: false });
  zip.end();
  await mkdir(path.dirname(file), { recursive: true });
  await pipeline(zip.outputStream, createWriteStream(file));
  return file;
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}
