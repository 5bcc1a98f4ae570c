import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { datasets, projects } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Invalid, NotFound, parseInput } from "@/server/errors";
import { getProject } from "./service";

const id = z.number().int().positive().max(2_147_483_647);
export const setDefaultDatasetInput = z.object({ projectId: id, datasetId: id.nullable() });

const HOW_TO_SET = "set the project's default dataset on the studio's Projects page";

/** Names (or clears) the dataset old clients train on when their request names none. */
export async function setDefaultDataset(ctx: Ctx, rawInput: z.input<typeof setDefaultDatasetInput>) {
  requireRole(ctx, "member");
  const input = parseInput(setDefaultDatasetInput, rawInput);
  await getProject(ctx, input.projectId);
  if (input.datasetId !== null) {
    const [dataset] = await ctx.db.select({ id: datasets.id }).from(datasets).where(and(eq(datasets.id, input.datasetId), eq(datasets.projectId, input.projectId)));
    if (!dataset) throw new NotFound(`Dataset ${input.datasetId} is not in this project`, { datasetId: ["not in this project"] });
  }
  const [row] = await ctx.db.update(projects).set({ defaultDatasetId: input.datasetId }).where(eq(projects.id, input.projectId)).returning();
  return row;
}

/**
 * The dataset of a request that names none (seeds 000 and 003): the project's default, else its
 * only dataset; with several and no default the client is told how to choose.
 */
export async function datasetForOldClients(ctx: Ctx, project: { id: number; name: string; defaultDatasetId: number | null }): Promise<number> {
  if (project.defaultDatasetId !== null) return project.defaultDatasetId;
  const rows = await ctx.db.select({ id: datasets.id, name: datasets.name }).from(datasets).where(eq(datasets.projectId, project.id)).orderBy(datasets.id);
  if (rows.length === 1) return rows[0].id;
  if (rows.length === 0) throw new Invalid(`Project "${project.name}" has no dataset; import one first`, { dataset_id: ["project has no dataset"] });
  const names = rows.map((d) => `${d.id} (${d.name})`).join(", ");
  throw new Invalid(`Project "${project.name}" has ${rows.length} datasets: ${names}; send dataset_id, or ${HOW_TO_SET}`, {
    dataset_id: ["required: the project has several datasets and no default"],
  });
}
