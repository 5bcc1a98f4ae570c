import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { Invalid, TooLarge } from "@/server/errors";
import { MAX_BATCH } from "./schemas";
import { MAX_IMAGE_BYTES, type ImageInput } from "./service";

/** Seed 002 names the field `images` (repeatable); `image` and `file` (seed 003) are taken too. */
const IMAGE_FIELDS = new Set(["images", "images[]", "image", "file", "files"]);

export interface ReceivedImages {
  images: ImageInput[];
  fields: Record<string, string>;
}

/**
 * Reads a multipart body's images (held in memory: each is capped at MAX_IMAGE_BYTES, at most MAX_BATCH)
 * and its text fields. Over a cap is TooLarge (413); no image is Invalid.
 */
export async function receiveImages(req: Request): Promise<ReceivedImages> {
  if (!req.body) throw new Invalid("Request has no body", { images: ["required"] });
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: Object.fromEntries(req.headers), limits: { fileSize: MAX_IMAGE_BYTES, files: MAX_BATCH, fields: 30, fieldSize: 64 * 1024 } });
  } catch (error) {
    throw new Invalid(`Not a multipart upload: ${(error as Error).message}`);
  }
  const fields: Record<string, string> = {};
  const reading: Promise<ImageInput | null>[] = [];
  let refusal: Error | null = null;
  parser.on("field", (name, value) => {
    fields[name] = value;
  });
  parser.on("filesLimit", () => (refusal ??= new Invalid(`At most ${MAX_BATCH} images per request`, { images: [`at most ${MAX_BATCH}`] })));
  parser.on("file", (name, stream, info) => {
    // A body cut off inside a file errors its stream too, which must never go unhandled.
    stream.on("error", () => {});
    if (!IMAGE_FIELDS.has(name)) {
      stream.resume();
      return;
    }
    const label = info.filename || `image ${reading.length + 1}`;
    reading.push(
      new Promise<ImageInput | null>((resolve) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("limit", () => (refusal ??= new TooLarge(`${label} is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB`, { images: ["too large"] })));
        stream.on("close", () => resolve({ bytes: Buffer.concat(chunks), label }));
        stream.on("error", () => resolve(null));
      }),
    );
  });
  try {
    await pipeline(Readable.fromWeb(req.body as unknown as WebReadableStream<Uint8Array>), parser);
  } catch (error) {
    throw new Invalid(`Upload failed: ${(error as Error).message}`, { images: ["upload failed"] });
  }
  const images = (await Promise.all(reading)).filter((image): image is ImageInput => image !== null);
  if (refusal) throw refusal;
  if (images.length === 0) throw new Invalid("The upload has no image: send it as the `images` field (or `image`, `file`)", { images: ["required"] });
  return { images, fields };
}
