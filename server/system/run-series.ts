import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { runPlacements } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { parseInput } from "@/server/errors";
import { getExperiment } from "@/server/experiments/queries";
import { hostSeries, type HostSeries } from "./samples";

export const runSeriesInput = z.object({ id: z.number().int().positive().max(2_147_483_647) });

/** Seconds of host figures shown before and after the run's process, for context. */
const MARGIN_MS = 5_000;

/**
 * The system figures of the host each attempt of the run ran on, over the time its process was
 * alive there (as W&B shows system metrics beside the loss): the host's CPU, memory, GPU
 * utilisation and memory, and the run process's own CPU, RSS and GPU memory.
 */
export async function runSystemSeries(ctx: Ctx, input: z.input<typeof runSeriesInput>): Promise<{ windows: (HostSeries & { from: Date; to: Date; pid: number })[] }> {
  const { id } = parseInput(runSeriesInput, input);
  await getExperiment(ctx, id);
  const placements = await ctx.db.select().from(runPlacements).where(eq(runPlacements.experimentId, id)).orderBy(asc(runPlacements.startedAt));
  const windows = [];
  for (const placement of placements) {
    const from = new Date(placement.startedAt.getTime() - MARGIN_MS);
    const to = new Date(placement.lastSeenAt.getTime() + MARGIN_MS);
    windows.push({ ...(await hostSeries(ctx.db, { host: placement.host, from, to, experimentId: id })), from, to, pid: placement.pid });
  }
  return { windows };
}
