import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { experiments, projects } from "@/db/schema";
import type { Caller } from "@/server/context";
import { DomainError } from "@/server/errors";
import type { QueueDeps } from "@/server/jobs/enqueue";
import { validateWeights, type ValidationRow } from "./validate";

/** Runs that end with a best checkpoint: finished, or stopped early. */
const ENDED = new Set(["completed", "stopped"]);

/**
 * Queues the validation of a run's best epoch on its val split once the run has ended, so every run has
 * per-image results (its own split if it drew one). Acts for the team as the member who created the run.
 * A run that cannot be validated (no val images, no checkpoint) answers null and the reason is logged.
 */
export async function validateBestEpoch(db: Db, experimentId: number, deps: QueueDeps = {}): Promise<ValidationRow | null> {
  const [row] = await db
    .select({ experiment: experiments, teamId: projects.teamId, projectName: projects.name })
    .from(experiments)
    .innerJoin(projects, eq(projects.id, experiments.projectId))
    .where(eq(experiments.id, experimentId));
  if (!row || !ENDED.has(row.experiment.status) || row.experiment.bestEpoch === null || row.experiment.createdBy === null) return null;
  const caller: Caller = { userId: row.experiment.createdBy, email: "", name: "best-epoch validation", isAdmin: false, teamId: row.teamId, teamName: "", role: "member", via: "session" };
  try {
    return await validateWeights({ db, caller }, { experimentId, split: "val", device: row.experiment.deviceRequested }, deps);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    console.info(`[experiment ${experimentId}] best epoch not validated: ${error.message}`);
    return null;
  }
}
