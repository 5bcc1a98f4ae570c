import { rm } from "node:fs/promises";
import { z } from "zod";
import { type Ctx, requireRole } from "@/server/context";
import { env } from "@/server/env";
import { Invalid, invalidFromZod } from "@/server/errors";
import { parsePathId } from "@/server/http/input";
import { receiveMultipartFile, type ReceivedFile } from "@/server/http/multipart";
import { defaultProject } from "@/server/projects/service";
import { importStagedWeights, type ImportMetadata } from "./import";
import type { WeightsView } from "./queries";
import { importMetadataInput } from "./schemas";
import { stagedPath, stageStream, type StagedFile } from "./storage";

/**
 * Streams a multipart body's `file` field to the tmp folder, hashing it on the way and stopping at
 * `maxBytes`; text fields come back as they are. Throws (Invalid, TooLarge) leaving no file.
 */
export async function receiveWeightsUpload(req: Request, maxBytes: number): Promise<ReceivedFile<StagedFile>> {
  const upload = await receiveMultipartFile(req, { maxBytes, target: stagedPath(), write: stageStream });
  if (upload.written.bytes === 0) {
    await rm(upload.written.file, { force: true });
    throw new Invalid("The uploaded file is empty", { file: ["empty"] });
  }
  return upload;
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
    await rm(upload.written.file, { force: true });
    throw error;
  }
  return importStagedWeights(ctx, upload.written, upload.filename, meta);
}
