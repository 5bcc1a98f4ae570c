import crypto from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { requireRole, type Ctx } from "@/server/context";
import { env } from "@/server/env";
import { Invalid, invalidFromZod } from "@/server/errors";
import { freeText, parsePathId } from "@/server/http/input";
import { receiveMultipartFile } from "@/server/http/multipart";
import { defaultProject } from "@/server/projects/service";
import { datasetName } from "./schemas";
import { startDatasetImport, type EnqueueImport } from "./service";
import { tmpDir } from "./storage";

/** Writes the archive's bytes to `target`, a file created afresh. */
async function writeArchive(file: Readable, target: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const out = createWriteStream(target, { flags: "wx" });
  try {
    await pipeline(file, out);
  } finally {
    // A write stream destroyed while still opening creates the file afterwards: settle before it is removed.
    if (!out.closed) await new Promise<void>((resolve) => out.once("close", () => resolve()));
  }
}

/**
 * A multipart `.zip` (`file`, `name` (default the file's name), `description?`, `project_id?` (default the
 * team's default project)) staged and queued for import; nothing is left behind when it is refused.
 */
export async function importUploadedDataset(ctx: Ctx, req: Request, enqueue?: EnqueueImport) {
  // Before reading the body: a viewer's upload is refused without staging a byte.
  requireRole(ctx, "member");
  const file = path.join(tmpDir(), `upload-${crypto.randomUUID()}.zip`);
  // Over the limit is a 400 here: seed 002's status table (which this upload serves too) has no 413.
  const upload = await receiveMultipartFile(req, { maxBytes: env().STUDIO_UPLOAD_MAX_MB * 1024 * 1024, target: file, write: writeArchive, tooLarge: Invalid });
  try {
    if (!upload.filename.toLowerCase().endsWith(".zip")) throw new Invalid(`Only .zip archives can be uploaded, got '${upload.filename}'`, { file: ["must be a .zip"] });
    const name = datasetName.safeParse(upload.fields.name ?? upload.filename.replace(/\.zip$/i, ""));
    if (!name.success) throw new Invalid(`name: ${name.error.issues[0].message}`, { name: name.error.issues.map((i) => i.message) });
    const projectId = upload.fields.project_id ? parsePathId(upload.fields.project_id, "Project") : (await defaultProject(ctx)).id;
    const description = freeText(2000).safeParse(upload.fields.description ?? "");
    if (!description.success) throw invalidFromZod(description.error.issues.map((i) => ({ ...i, path: ["description"] })));
    return await startDatasetImport(ctx, { projectId, name: name.data, description: description.data, source: { kind: "zip", file } }, enqueue);
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}
