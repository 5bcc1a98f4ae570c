import { rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { z } from "zod";
import { type Ctx, requireRole } from "@/server/context";
import { env } from "@/server/env";
import { Invalid, invalidFromZod, TooLarge } from "@/server/errors";
import { parsePathId } from "@/server/http/input";
import { defaultProject } from "@/server/projects/service";
import { importStagedWeights, type ImportMetadata } from "./import";
import type { WeightsView } from "./queries";
import { importMetadataInput } from "./schemas";
import { stagedPath, stageStream, type StagedFile } from "./storage";

export interface ReceivedWeights {
  staged: StagedFile;
  /** The uploader's file name: a hint for the format and the default entry name, never a stored name. */
  filename: string;
  fields: Record<string, string>;
}

/**
 * Streams a multipart body's `file` field to the tmp folder, hashing it on the way and stopping at
 * `maxBytes`; text fields come back as they are. Throws (Invalid, TooLarge) leaving no file.
 */
export async function receiveWeightsUpload(req: Request, maxBytes: number): Promise<ReceivedWeights> {
  if (!req.body) throw new Invalid("Request has no body", { file: ["required"] });
  const target = stagedPath();
  const fields: Record<string, string> = {};
  let filename = "";
  let truncated = false;
  // Set in busboy's callbacks, so declared wider than `null` for the checks after them.
  let staging = null as Promise<StagedFile> | null;
  let fileStream = null as Readable | null;
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
    if (name !== "file" || staging) {
      // Drained and ignored; a body cut off inside it errors this stream too, which must not go unhandled.
      stream.on("error", () => {});
      stream.resume();
      return;
    }
    filename = info.filename ?? "";
    stream.on("limit", () => (truncated = true));
    fileStream = stream;
    // stageStream awaits a mkdir before piping: a body cut off meanwhile must not error an unwatched stream.
    stream.on("error", () => {});
    staging = stageStream(stream, target);
    // Awaited below or in the catch; never an unhandled rejection when the body ends early.
    staging.catch(() => {});
  });
  try {
    await pipeline(Readable.fromWeb(req.body as unknown as WebReadableStream<Uint8Array>), parser);
    if (!staging) throw new Invalid("The upload has no `file` field", { file: ["required"] });
    const staged = await staging;
    if (truncated) throw new TooLarge(`The upload is larger than the limit of ${Math.round(maxBytes / 1024 / 1024)} MB (STUDIO_UPLOAD_MAX_MB)`, { file: ["too large"] });
    if (staged.bytes === 0) throw new Invalid("The uploaded file is empty", { file: ["empty"] });
    return { staged, filename, fields };
  } catch (err) {
    // A body cut off mid-file leaves the file's stream open: end it, let the write settle, then remove what it wrote.
    (fileStream as Readable | null)?.destroy(new Error("the upload ended early"));
    await staging?.catch(() => {});
    await rm(target, { force: true });
    if (err instanceof Invalid || err instanceof TooLarge) throw err;
    throw new Invalid(`Upload failed: ${(err as Error).message}`, { file: ["upload failed"] });
  }
}

const uploadFields = z.object({
  project_id: z.string().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  /** A JSON list, or names separated by commas. */
  tags: z.string().optional(),
  model: z.string().optional(),
  architecture_id: z.string().optional(),
});

function tagList(text: string | undefined): unknown {
  if (text === undefined || text.trim() === "") return undefined;
  if (text.trim().startsWith("[")) {
    try {
      return JSON.parse(text);
    } catch {
      throw new Invalid("tags: not a JSON list", { tags: ["not a JSON list"] });
    }
  }
  return text.split(",").map((tag) => tag.trim()).filter(Boolean);
}

/** The import's metadata from the upload's text fields (snake_case, as forms and old clients send them). */
async function metadataFromFields(ctx: Ctx, fields: Record<string, string>): Promise<ImportMetadata> {
  const raw = uploadFields.parse(fields);
  const parsed = importMetadataInput.safeParse({
    projectId: raw.project_id ? parsePathId(raw.project_id, "Project") : (await defaultProject(ctx)).id,
    name: raw.name?.trim() || undefined,
    description: raw.description,
    tags: tagList(raw.tags),
    model: raw.model?.trim() || undefined,
    architectureId: raw.architecture_id ? parsePathId(raw.architecture_id, "Architecture") : undefined,
  });
  if (!parsed.success) throw invalidFromZod(parsed.error.issues);
  return parsed.data;
}

/**
 * A multipart import (`file` and the optional fields `project_id`, `name`, `description`, `tags`,
 * `model`, `architecture_id`; no project: the team's default one) streamed to the tmp folder under
 * STUDIO_UPLOAD_MAX_MB, then inspected and filed. Whatever fails, no entry and no file remain.
 */
export async function importUploadedWeights(ctx: Ctx, req: Request): Promise<WeightsView> {
  requireRole(ctx, "member");
  const upload = await receiveWeightsUpload(req, env().STUDIO_UPLOAD_MAX_MB * 1024 * 1024);
  let meta: ImportMetadata;
  try {
    meta = await metadataFromFields(ctx, upload.fields);
  } catch (error) {
    await rm(upload.staged.file, { force: true });
    throw error;
  }
  return importStagedWeights(ctx, upload.staged, upload.filename, meta);
}
