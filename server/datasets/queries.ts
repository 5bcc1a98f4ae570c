import { and, eq } from "drizzle-orm";
import { datasets, projects } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";

export type DatasetRow = typeof datasets.$inferSelect;

/** The caller's team's dataset, or NotFound. */
export async function getDataset(ctx: Ctx, id: number): Promise<DatasetRow> {
  const [row] = await ctx.db
    .select({ dataset: datasets })
    .from(datasets)
    .innerJoin(projects, eq(projects.id, datasets.projectId))
    .where(and(eq(datasets.id, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Dataset ${id} not found`);
  return row.dataset;
}
