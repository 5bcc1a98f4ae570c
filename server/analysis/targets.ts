import { and, desc, eq } from "drizzle-orm";
import { projects, validations } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Conflict } from "@/server/errors";
import { getExperiment } from "@/server/experiments/queries";
import { getWeights } from "@/server/weights/queries";
import type { ValidationRow } from "@/server/weights/validate";
import { ensureOutcomes } from "./outcomes";
import type { ModelRef } from "./schemas";

export const refText = (ref: ModelRef) => (ref.kind === "weights" ? `w${ref.id}` : String(ref.id));
const refName = (ref: ModelRef) => (ref.kind === "weights" ? `Weights ${ref.id}` : `Experiment ${ref.id}`);

/** The latest completed validation of a run or weights entry of the caller's team on a split (its outcomes derived if need be). */
export async function latestValidation(ctx: Ctx, ref: ModelRef, split: string, field = "ref"): Promise<ValidationRow & { name: string }> {
  const name = ref.kind === "weights" ? (await getWeights(ctx, ref.id)).name : (await getExperiment(ctx, ref.id)).name;
  const [row] = await ctx.db
    .select({ validation: validations })
    .from(validations)
    .innerJoin(projects, eq(projects.id, validations.projectId))
    .where(
      and(
        eq(projects.teamId, ctx.caller.teamId),
        ref.kind === "weights" ? eq(validations.weightsId, ref.id) : eq(validations.experimentId, ref.id),
        eq(validations.split, split),
        eq(validations.status, "completed"),
        eq(validations.purpose, "validation"),
      ),
    )
    .orderBy(desc(validations.id))
    .limit(1);
  if (!row) {
    const how = ref.kind === "weights" ? "validate it first" : "a run is validated on its val split when it completes; validate it on another split first";
    throw new Conflict(`${refName(ref)} has no completed validation on the ${split} split: ${how}`, { [field]: [`no completed ${split} validation`] });
  }
  await ensureOutcomes(ctx.db, row.validation.id);
  return { ...row.validation, name };
}
