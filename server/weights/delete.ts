import { and, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { activeExperimentStatuses, experiments, weights } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Conflict } from "@/server/errors";
import { getWeights } from "./queries";
import { lockContent, removeContentIfUnused } from "./storage";

/**
 * Refuses (Conflict, naming who) while something reads the entry's file: a queued or running experiment
 * that starts from it (it names the entry as `hyperparameters.weights`), or a job still producing a
 * child entry (an export) from it.
 */
export async function assertWeightsDeletable(db: DbOrTx, id: number): Promise<void> {
  const runs = await db
    .select({ id: experiments.id, status: experiments.status })
    .from(experiments)
    .where(and(inArray(experiments.status, [...activeExperimentStatuses]), sql`${experiments.hyperparameters} ->> 'weights' = ${String(id)}`))
    .orderBy(experiments.id)
    .limit(3);
  if (runs.length > 0) {
    const which = runs.map((run) => `${run.id} (${run.status})`).join(", ");
    throw new Conflict(`Weights ${id} are used by experiment(s) ${which}; stop them before deleting the weights`, { id: ["in use by an experiment"] });
  }
  const children = await db
    .select({ id: weights.id })
    .from(weights)
    .where(and(eq(weights.parentId, id), eq(weights.status, "processing")))
    .limit(3);
  if (children.length > 0) {
    const which = children.map((child) => child.id).join(", ");
    throw new Conflict(`Weights ${id} are being read by the job producing weights ${which}; wait for it to end before deleting them`, { id: ["in use by a job"] });
  }
}

/** Deletes the entry; its file goes too unless another entry holds the same content. */
export async function deleteWeights(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx, "member");
  const entry = await getWeights(ctx, id);
  await ctx.db.transaction(async (tx) => {
    await lockContent(tx, entry.sha256);
    await assertWeightsDeletable(tx, entry.id);
    await tx.delete(weights).where(eq(weights.id, entry.id));
  });
  await removeContentIfUnused(ctx.db, entry.sha256);
}
