import { and, arrayContains, desc, eq, ilike, or, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { architectures, datasets, experiments, projects, weights } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { NotFound, parseInput } from "@/server/errors";
import { listWeightsInput } from "./schemas";

export type WeightsRow = typeof weights.$inferSelect;

/** An entry as every face shows it: the row and the names of what it links to. */
export interface WeightsView extends WeightsRow {
  projectName: string;
  sourceExperimentName: string | null;
  datasetName: string | null;
  architectureName: string | null;
  parentName: string | null;
}

const parent = alias(weights, "parent");

function views(db: DbOrTx) {
  return db
    .select({
      entry: weights,
      projectName: projects.name,
      sourceExperimentName: experiments.name,
      datasetName: datasets.name,
      architectureName: architectures.name,
      parentName: parent.name,
    })
    .from(weights)
    .innerJoin(projects, eq(projects.id, weights.projectId))
    .leftJoin(experiments, eq(experiments.id, weights.sourceExperimentId))
    .leftJoin(datasets, eq(datasets.id, weights.datasetId))
    .leftJoin(architectures, eq(architectures.id, weights.architectureId))
    .leftJoin(parent, eq(parent.id, weights.parentId));
}

type ViewRow = Awaited<ReturnType<ReturnType<typeof views>["where"]>>[number];

function toView({ entry, ...names }: ViewRow): WeightsView {
  return { ...entry, ...names };
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listWeights(ctx: Ctx, rawInput: z.input<typeof listWeightsInput> = { limit: 500 }): Promise<WeightsView[]> {
  const input = parseInput(listWeightsInput, rawInput);
  const where: (SQL | undefined)[] = [eq(projects.teamId, ctx.caller.teamId)];
  if (input.projectId) where.push(eq(weights.projectId, input.projectId));
  if (input.task) where.push(eq(weights.task, input.task));
  if (input.format) where.push(eq(weights.format, input.format));
  if (input.tag) where.push(arrayContains(weights.tags, [input.tag]));
  if (input.search) {
    const pattern = `%${escapeLike(input.search)}%`;
    where.push(or(ilike(weights.name, pattern), ilike(weights.description, pattern)));
  }
  const rows = await views(ctx.db)
    .where(and(...where))
    .orderBy(desc(weights.createdAt), desc(weights.id))
    .limit(input.limit);
  return rows.map(toView);
}

/** The caller's team's entry, or NotFound. */
export async function getWeights(ctx: Ctx, id: number): Promise<WeightsView> {
  const [row] = await views(ctx.db).where(and(eq(weights.id, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Weights ${id} not found`);
  return toView(row);
}
