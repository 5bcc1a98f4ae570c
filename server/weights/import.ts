import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import type { z } from "zod";
import { architectures, projects, weights, type WeightsMetrics } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { resolveImportPath } from "@/server/datasets/import";
import { env } from "@/server/env";
import { NotFound, parseInput } from "@/server/errors";
import { getProject } from "@/server/projects/service";
import { inspectWeightsFile, type WeightsInspection } from "./inspect";
import { getWeights, type WeightsView } from "./queries";
import { importFromPathInput, importMetadataInput } from "./schemas";
import { lockContent, removeContentIfUnused, stageStream, storedWeightsPath, weightsFilePath, type StagedFile } from "./storage";

export type ImportMetadata = z.output<typeof importMetadataInput>;

/** Where the weights came from, when the studio made them. */
export interface WeightsLineage {
  sourceExperimentId?: number;
  sourceEpoch?: number | null;
  datasetId?: number | null;
  datasetSplit?: string | null;
  model?: string | null;
  architectureId?: number | null;
  parentId?: number | null;
  metrics?: WeightsMetrics | null;
}

/** An entry's default name: the uploaded file's name without its extension, made printable. */
function nameFromFile(filename: string, sha256: string): string {
  const base = path.basename(filename, path.extname(filename)).replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 200);
  return base || `weights-${sha256.slice(0, 12)}`;
}

async function assertTeamArchitecture(ctx: Ctx, id: number): Promise<void> {
  const [row] = await ctx.db
    .select({ id: architectures.id })
    .from(architectures)
    .innerJoin(projects, eq(projects.id, architectures.projectId))
    .where(and(eq(architectures.id, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Architecture ${id} not found`);
}

/**
 * Moves the staged file into its content-addressed place (unless that content is already stored) and
 * inserts the entry, under the content's lock. On any failure the entry does not exist and a file this
 * call put in place is removed again.
 */
async function fileStaged(ctx: Ctx, staged: StagedFile, values: Omit<typeof weights.$inferInsert, "file" | "bytes" | "sha256">): Promise<number> {
  const relative = storedWeightsPath(staged.sha256, values.format);
  const target = weightsFilePath(relative);
  let placed = false;
  try {
    return await ctx.db.transaction(async (tx) => {
      await lockContent(tx, staged.sha256);
      const existing = await stat(target).catch(() => null);
      if (existing?.size !== staged.bytes) {
        await mkdir(path.dirname(target), { recursive: true });
        await rename(staged.file, target);
        placed = true;
      }
      const [row] = await tx.insert(weights).values({ ...values, file: relative, bytes: staged.bytes, sha256: staged.sha256 }).returning({ id: weights.id });
      return row.id;
    });
  } catch (error) {
    if (placed) await removeContentIfUnused(ctx.db, staged.sha256);
    throw error;
  }
}

/**
 * Inspects a staged file with the engine's readers and adds it to the project's library; `lineageOf`
 * says where the studio got it, from what the file holds. The staged file is used up whatever happens:
 * moved into place, or removed (unreadable file, unknown project …).
 */
export async function importStagedWeights(
  ctx: Ctx,
  staged: StagedFile,
  filename: string,
  meta: ImportMetadata,
  lineageOf: (inspection: WeightsInspection) => WeightsLineage = () => ({}),
): Promise<WeightsView> {
  try {
    requireRole(ctx, "member");
    await getProject(ctx, meta.projectId);
    if (meta.architectureId) await assertTeamArchitecture(ctx, meta.architectureId);
    const inspection = await inspectWeightsFile(staged.file, filename);
    const lineage = lineageOf(inspection);
    const id = await fileStaged(ctx, staged, {
      projectId: meta.projectId,
      name: meta.name ?? nameFromFile(filename, staged.sha256),
      description: meta.description,
      tags: meta.tags,
      format: inspection.format,
      task: inspection.task,
      classNames: inspection.classNames,
      inputShape: inspection.inputShape,
      imgsz: inspection.imgsz,
      details: inspection.details,
      metrics: lineage.metrics ?? null,
      sourceExperimentId: lineage.sourceExperimentId ?? null,
      sourceEpoch: lineage.sourceEpoch ?? inspection.epoch,
      datasetId: lineage.datasetId ?? null,
      datasetSplit: lineage.datasetSplit ?? null,
      model: lineage.model ?? meta.model ?? inspection.model,
      architectureId: lineage.architectureId ?? meta.architectureId ?? null,
      parentId: lineage.parentId ?? null,
      status: "ready",
      createdBy: ctx.caller.userId,
    });
    return await getWeights(ctx, id);
  } finally {
    await rm(staged.file, { force: true });
  }
}

/** Imports a file on the server, under STUDIO_IMPORT_ROOTS; it is copied (and hashed) first, never moved. */
export async function importWeightsFromPath(ctx: Ctx, rawInput: z.input<typeof importFromPathInput>): Promise<WeightsView> {
  requireRole(ctx, "member");
  const input = parseInput(importFromPathInput, rawInput);
  const real = await resolveImportPath(input.path, env().importRoots, "file");
  const staged = await stageStream(createReadStream(real));
  return importStagedWeights(ctx, staged, path.basename(real), input);
}
