import crypto from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { requireRole, type Ctx } from "@/server/context";
import { env } from "@/server/env";
import { Invalid, invalidFromZod } from "@/server/errors";
import { freeText, parsePathId } from "@/server/http/input";
import { defaultProject } from "@/server/projects/service";
import { datasetName } from "./schemas";
import { startDatasetImport, type EnqueueImport } from "./service";
import { tmpDir } from "./storage";

export interface ReceivedUpload {
  /** The staged archive under STUDIO_DATA_DIR/tmp (the import job deletes it). */
  file: string;
  filename: string;
  bytes: number;
  fields: Record<string, string>;
}

/**
 * Streams a multipart body's `file` field straight to the tmp folder (never held in memory), stopping at
 * `maxBytes`. Text fields are returned as they are. Throws Invalid, leaving no file, when anything is off.
 */
async function receiveZipUpload(req: Request, maxBytes: number): Promise<ReceivedUpload> {
  if (!req.body) throw new Invalid("Request has no body", { file: ["required"] });
  await mkdir(tmpDir(), { recursive: true });
  const target = path.join(tmpDir(), `upload-${crypto.randomUUID()}.zip`);
  const fields: Record<string, string> = {};
  let filename = "";
  let bytes = 0;
  let truncated = false;
  // Set in busboy's callbacks, so declared wider than `null` for the checks after them.
  let fileWrite = null as Promise<void> | null;
  let fileStream = null as Readable | null;
  let fileOut = null as WriteStream | null;
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: Object.fromEntries(req.headers), limits: { fileSize: maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024 } });
  } catch (err) {
    throw new Invalid(`Not a multipart upload: ${(err as Error).message}`);
  }
  parser.on("field", (name, value) => {
    fields[name] = value;
  });
  parser.on("file", (name, stream, info) => {
    if (name !== "file" || fileWrite) {
      // Drained and ignored; a body cut off inside it errors this stream too, which must not go unhandled.
      stream.on("error", () => {});
      stream.resume();
      return;
    }
    filename = info.filename ?? "";
    stream.on("data", (chunk: Buffer) => (bytes += chunk.length));
    stream.on("limit", () => (truncated = true));
    fileStream = stream;
    fileOut = createWriteStream(target, { flags: "wx" });
    fileWrite = pipeline(stream, fileOut);
    // Awaited below or in the catch; never an unhandled rejection when the body ends early.
    fileWrite.catch(() => {});
  });
  try {
    await pipeline(Readable.fromWeb(req.body as unknown as WebReadableStream<Uint8Array>), parser);
    if (!fileWrite) throw new Invalid("The upload has no `file` field", { file: ["required"] });
    await fileWrite;
    if (truncated) throw new Invalid(`The upload is larger than the limit of ${Math.round(maxBytes / 1024 / 1024)} MB (STUDIO_UPLOAD_MAX_MB)`, { file: ["too large"] });
    if (!filename.toLowerCase().endsWith(".zip")) throw new Invalid(`Only .zip archives can be uploaded, got '${filename}'`, { file: ["must be a .zip"] });
    return { file: target, filename, bytes, fields };
  } catch (err) {
    // A body cut off mid-file leaves the file's stream open: end it, let the write settle, then remove what it wrote.
    fileStream?.destroy(new Error("the upload ended early"));
    await fileWrite?.catch(() => {});
    // A write stream destroyed while still opening creates the file afterwards: remove it once closed.
    const out = fileOut;
    if (out && !out.closed) await new Promise<void>((resolve) => out.once("close", () => resolve()));
    await rm(target, { force: true });
    if (err instanceof Invalid) throw err;
    throw new Invalid(`Upload failed: ${(err as Error).message}`, { file: ["upload failed"] });
  }
}

/**
 * A multipart `.zip` (`file`, `name` (default the file's name), `description?`, `project_id?` (default the
 * team's default project)) staged and queued for import; nothing is left behind when it is refused.
 */
export async function importUploadedDataset(ctx: Ctx, req: Request, enqueue?: EnqueueImport) {
  // Before reading the body: a viewer's upload is refused without staging a byte.
  requireRole(ctx, "member");
  const upload = await receiveZipUpload(req, env().STUDIO_UPLOAD_MAX_MB * 1024 * 1024);
  try {
    const name = datasetName.safeParse(upload.fields.name ?? upload.filename.replace(/\.zip$/i, ""));
    if (!name.success) throw new Invalid(`name: ${name.error.issues[0].message}`, { name: name.error.issues.map((i) => i.message) });
    const projectId = upload.fields.project_id ? parsePathId(upload.fields.project_id, "Project") : (await defaultProject(ctx)).id;
    const description = freeText(2000).safeParse(upload.fields.description ?? "");
    if (!description.success) throw invalidFromZod(description.error.issues.map((i) => ({ ...i, path: ["description"] })));
    return await startDatasetImport(ctx, { projectId, name: name.data, description: description.data, source: { kind: "zip", file: upload.file } }, enqueue);
  } catch (err) {
    await rm(upload.file, { force: true });
    throw err;
  }
}
