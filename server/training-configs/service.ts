import { and, asc, eq, sql } from "drizzle-orm";
import type { z } from "zod";
import { projects, trainingConfigs } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Invalid, NotFound, parseInput, referencedBy } from "@/server/errors";
import { getArchitecture } from "@/server/architectures/service";
import { checkPipeline } from "@/server/augmentations/service";
import { assertMayRunCommand } from "@/server/experiments/command";
import { findZooModel } from "@/server/ml/zoo/index";
import { getProject } from "@/server/projects/service";
import { listTrainingConfigsInput, saveTrainingConfigInput } from "./schemas";

export async function listTrainingConfigs(ctx: Ctx, rawInput: z.input<typeof listTrainingConfigsInput> = {}) {
  const input = parseInput(listTrainingConfigsInput, rawInput);
  const rows = await ctx.db
    .select({ config: trainingConfigs })
    .from(trainingConfigs)
    .innerJoin(projects, eq(projects.id, trainingConfigs.projectId))
    .where(and(eq(projects.teamId, ctx.caller.teamId), input.projectId ? eq(trainingConfigs.projectId, input.projectId) : undefined))
    .orderBy(asc(trainingConfigs.name));
  return rows.map((r) => r.config);
}

/** Saves a template under its name; saving the same name again replaces its model, device and hyper-parameters. */
export async function saveTrainingConfig(ctx: Ctx, rawInput: z.input<typeof saveTrainingConfigInput>) {
  requireRole(ctx, "member");
  const input = parseInput(saveTrainingConfigInput, rawInput);
  assertMayRunCommand(ctx, input.hyperparameters);
  await getProject(ctx, input.projectId);
  if (input.model != null) {
    try {
      findZooModel(input.model);
    } catch (error) {
      throw new Invalid((error as Error).message, { model: ["unknown zoo model"] });
    }
  }
  if (input.architectureId != null) await referencedBy("architectureId", getArchitecture(ctx, input.architectureId));
  const augmentation = input.augmentation === null ? null : checkPipeline(input.augmentation);
  // A template keeps what was set, not the engine's defaults (those may change before it is used).
  const given = new Set(Object.keys(rawInput.hyperparameters ?? {}));
  const hyperparameters = Object.fromEntries(Object.entries(input.hyperparameters).filter(([key]) => given.has(key)));
  const values = { hyperparameters, model: input.model ?? null, architectureId: input.architectureId ?? null, device: input.device ?? null, augmentation, extra: input.extra };
  const [row] = await ctx.db
    .insert(trainingConfigs)
    .values({ projectId: input.projectId, name: input.name, ...values, createdBy: ctx.caller.userId })
    .onConflictDoUpdate({ target: [trainingConfigs.projectId, trainingConfigs.name], set: { ...values, createdAt: sql`now()` } })
    .returning();
  return row;
}

export async function deleteTrainingConfig(ctx: Ctx, id: number) {
  requireRole(ctx, "member");
  const [row] = await ctx.db
    .select({ id: trainingConfigs.id })
    .from(trainingConfigs)
    .innerJoin(projects, eq(projects.id, trainingConfigs.projectId))
    .where(and(eq(trainingConfigs.id, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Training config ${id} not found`);
  await ctx.db.delete(trainingConfigs).where(eq(trainingConfigs.id, id));
}
