import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { activeModels, projects, validations, weights, type ValidationSpeed } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Conflict, NotFound } from "@/server/errors";
import { parsePathId } from "@/server/http/input";
import { getWeights, type WeightsView } from "./queries";

export type { ValidationSpeed };

/**
 * The team's active model: the weights entry its recognition clients (seed 003) infer with, one per
 * team, kept in `active_models`.
 */

/** The team's active entry's id, or null when none was chosen (or it was deleted). */
export async function activeWeightsId(ctx: Ctx): Promise<number | null> {
  const [row] = await ctx.db.select({ weightsId: activeModels.weightsId }).from(activeModels).where(eq(activeModels.teamId, ctx.caller.teamId));
  return row?.weightsId ?? null;
}

/** Makes the team's entry `id` the active model; it must be ready (a file to infer with). */
export async function setActiveWeights(ctx: Ctx, id: number): Promise<WeightsView> {
  requireRole(ctx, "member");
  const entry = await getWeights(ctx, id);
  if (entry.status !== "ready") throw new Conflict(`Weights ${entry.name} are ${entry.status}; only ready weights can be the active model`, { model_id: [entry.status] });
  await ctx.db
    .insert(activeModels)
    .values({ teamId: ctx.caller.teamId, weightsId: entry.id, setBy: ctx.caller.userId })
    .onConflictDoUpdate({ target: activeModels.teamId, set: { weightsId: entry.id, setBy: ctx.caller.userId, updatedAt: sql`now()` } });
  return entry;
}

/** The team's entry a client names by id ("12") or by name; NotFound otherwise. */
export async function findWeightsByIdOrName(ctx: Ctx, reference: string): Promise<WeightsView> {
  const key = reference.trim();
  if (/^\d+$/.test(key)) return getWeights(ctx, parsePathId(key, "Model"));
  const [row] = await ctx.db
    .select({ id: weights.id })
    .from(weights)
    .innerJoin(projects, eq(projects.id, weights.projectId))
    .where(and(eq(projects.teamId, ctx.caller.teamId), eq(weights.name, key)))
    .orderBy(desc(weights.createdAt), desc(weights.id))
    .limit(1);
  if (!row) throw new NotFound(`Model ${key} not found`);
  return getWeights(ctx, row.id);
}

/** Per entry, the speed its latest completed validation job measured (training-time validations measure none). */
export async function latestValidationSpeeds(ctx: Ctx, ids: number[]): Promise<Map<number, ValidationSpeed>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.db
    .selectDistinctOn([validations.weightsId], { weightsId: validations.weightsId, speed: validations.speed })
    .from(validations)
    .innerJoin(projects, eq(projects.id, validations.projectId))
    .where(and(eq(projects.teamId, ctx.caller.teamId), inArray(validations.weightsId, ids), eq(validations.status, "completed"), eq(validations.purpose, "validation")))
    .orderBy(validations.weightsId, desc(validations.finishedAt), desc(validations.id));
  return new Map(rows.flatMap((row) => (row.weightsId !== null && row.speed ? [[row.weightsId, row.speed]] : [])));
}
