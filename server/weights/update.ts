import { eq } from "drizzle-orm";
import type { z } from "zod";
import { weights } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { getWeights, type WeightsView } from "./queries";
import { updateWeightsInput } from "./schemas";
import { parseInput } from "@/server/errors";

/** Renames, retags or re-describes an entry; what is not given stays. */
export async function updateWeights(ctx: Ctx, rawInput: z.input<typeof updateWeightsInput>): Promise<WeightsView> {
  requireRole(ctx, "member");
  const input = parseInput(updateWeightsInput, rawInput);
  const current = await getWeights(ctx, input.id);
  await ctx.db
    .update(weights)
    .set({ name: input.name ?? current.name, description: input.description ?? current.description, tags: input.tags ?? current.tags, updatedAt: new Date() })
    .where(eq(weights.id, current.id));
  return getWeights(ctx, current.id);
}
