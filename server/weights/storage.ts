import crypto from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { count, eq, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { weights, type WeightsFormat } from "@/db/schema";
import { tmpDir } from "@/server/datasets/storage";
import { env } from "@/server/env";

/**
 * Weights files are content-addressed: `<dataDir>/weights/<sha256>/weights.<ext>`. Entries with the same
 * content share the file; whoever adds or removes an entry for a sha256 holds that sha256's advisory
 * lock, so a file is never removed under an entry being added, nor added twice.
 */

const EXTENSIONS: Record<WeightsFormat, string> = { onnx: ".onnx", pt: ".pt", ckpt: ".ckpt", tfjs: ".zip" };

export function weightsExtension(format: WeightsFormat): string {
  return EXTENSIONS[format];
}

function weightsRoot(): string {
  return path.join(env().dataDir, "weights");
}

/** The stored file's path relative to the storage root, as the `file` column holds it. */
export function storedWeightsPath(sha256: string, format: WeightsFormat): string {
  return path.posix.join("weights", sha256, `weights${EXTENSIONS[format]}`);
}

/** The absolute path of a `file` column's value, refusing anything outside the weights folder. */
export function weightsFilePath(relative: string): string {
  const full = path.resolve(env().dataDir, relative);
  if (!full.startsWith(weightsRoot() + path.sep)) throw new Error(`weights file ${relative} is outside the weights folder`);
  return full;
}

function contentDir(sha256: string): string {
  return path.join(weightsRoot(), sha256);
}

/** Advisory-lock namespace of weights contents (two-key form, so it never meets another lock user's keys). */
const CONTENT_LOCK = 0x57454947;

export async function lockContent(tx: DbOrTx, sha256: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CONTENT_LOCK}, hashtext(${sha256}))`);
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Removes the content's folder when no entry names its sha256 any more; true when it did. */
export async function removeContentIfUnused(db: Db, sha256: string): Promise<boolean> {
  if (!SHA256.test(sha256)) return false;
  return db.transaction(async (tx) => {
    await lockContent(tx, sha256);
    const [{ users }] = await tx.select({ users: count() }).from(weights).where(eq(weights.sha256, sha256));
    if (users === 0) await rm(contentDir(sha256), { recursive: true, force: true });
    return users === 0;
  });
}

/**
 * Removes the content folders no entry names: deleting a project (or team) removes its entries by
 * cascade, which cannot remove files. Run on start and after such deletes; each folder is decided under
 * its content's lock, so one being added meanwhile stays. Answers the sha256s removed.
 */
export async function sweepOrphanWeightsFiles(db: Db): Promise<string[]> {
  const folders = (await readdir(weightsRoot(), { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory() && SHA256.test(entry.name));
  if (folders.length === 0) return [];
  const used = new Set((await db.selectDistinct({ sha256: weights.sha256 }).from(weights)).map((row) => row.sha256));
  const removed: string[] = [];
  for (const { name } of folders) if (!used.has(name) && (await removeContentIfUnused(db, name))) removed.push(name);
  return removed;
}

/** A file written to the tmp folder, hashed while it was written. */
export interface StagedFile {
  file: string;
  bytes: number;
  sha256: string;
}

export function stagedPath(): string {
  return path.join(tmpDir(), `weights-${crypto.randomUUID()}.part`);
}

/**
 * Writes a stream to `target` (under tmp), computing its sha256 and size on the way; the bytes are
 * never held in memory. A failed write leaves no file.
 */
export async function stageStream(source: Readable, target: string = stagedPath()): Promise<StagedFile> {
  await mkdir(path.dirname(target), { recursive: true });
  const hash = crypto.createHash("sha256");
  let bytes = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const out = createWriteStream(target, { flags: "wx" });
  try {
    await pipeline(source, hasher, out);
  } catch (error) {
    // A write stream destroyed while still opening creates the file afterwards: settle before it is removed.
    if (!out.closed) await new Promise<void>((resolve) => out.once("close", () => resolve()));
    await rm(target, { force: true });
    throw error;
  }
  return { file: target, bytes, sha256: hash.digest("hex") };
}
