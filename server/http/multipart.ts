import { rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { DomainError, Invalid, TooLarge, type FieldErrors } from "@/server/errors";

export interface ReceivedFile<T> {
  /** What `write` made of the file's bytes. */
  written: T;
  /** The uploader's file name: a hint (format, default name), never a stored name. */
  filename: string;
  fields: Record<string, string>;
}

export interface ReceiveOptions<T> {
  maxBytes: number;
  /** Where `write` puts the bytes: removed whenever the upload is refused. */
  target: string;
  write: (file: Readable, target: string) => Promise<T>;
  /** The refusal past `maxBytes` (413 unless a face documents otherwise). */
  tooLarge?: new (message: string, fields?: FieldErrors) => DomainError;
}

/**
 * Streams a multipart body's `file` field through `write` (never held in memory), stopping at
 * `maxBytes`; text fields come back as they are, other files are drained. Throws (Invalid, or
 * `tooLarge` past the limit) leaving no file behind.
 */
export async function receiveMultipartFile<T>(req: Request, options: ReceiveOptions<T>): Promise<ReceivedFile<T>> {
  if (!req.body) throw new Invalid("Request has no body", { file: ["required"] });
  const fields: Record<string, string> = {};
  let filename = "";
  let truncated = false;
  // Set in busboy's callbacks, so declared wider than `null` for the checks after them.
  let writing = null as Promise<T> | null;
  let fileStream = null as Readable | null;
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: Object.fromEntries(req.headers), limits: { fileSize: options.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024 } });
  } catch (err) {
    throw new Invalid(`Not a multipart upload: ${(err as Error).message}`);
  }
  parser.on("field", (name, value) => {
    fields[name] = value;
  });
  parser.on("file", (name, stream, info) => {
    // Drained and ignored; a body cut off inside it errors this stream too, which must not go unhandled.
    stream.on("error", () => {});
    if (name !== "file" || writing) {
      stream.resume();
      return;
    }
    filename = info.filename ?? "";
    stream.on("limit", () => (truncated = true));
    fileStream = stream;
    writing = options.write(stream, options.target);
    // Awaited below or in the catch; never an unhandled rejection when the body ends early.
    writing.catch(() => {});
  });
  try {
    await pipeline(Readable.fromWeb(req.body as unknown as WebReadableStream<Uint8Array>), parser);
    if (!writing) throw new Invalid("The upload has no `file` field", { file: ["required"] });
    const written = await writing;
    if (truncated) {
      const Refusal = options.tooLarge ?? TooLarge;
      throw new Refusal(`The upload is larger than the limit of ${Math.round(options.maxBytes / 1024 / 1024)} MB (STUDIO_UPLOAD_MAX_MB)`, { file: ["too large"] });
    }
    return { written, filename, fields };
  } catch (err) {
    // A body cut off mid-file leaves the file's stream open: end it, let the write settle, then remove what it wrote.
    (fileStream as Readable | null)?.destroy(new Error("the upload ended early"));
    await writing?.catch(() => {});
    await rm(options.target, { force: true });
    if (err instanceof DomainError) throw err;
    throw new Invalid(`Upload failed: ${(err as Error).message}`, { file: ["upload failed"] });
  }
}
