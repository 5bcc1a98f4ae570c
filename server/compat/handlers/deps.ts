import type PgBoss from "pg-boss";
import type { Db } from "@/db/client";
import type { Ctx } from "@/server/context";
import { listDatasets, type EnqueueImport } from "@/server/datasets/service";
import { Invalid } from "@/server/errors";
import type { QueueDeps } from "@/server/experiments/lifecycle";

/**
 * What a dialect's handler may be given instead of the process's globals: tests pass their
 * database and pg-boss; the route files pass nothing.
 */
export interface CompatDeps {
  db?: Db;
  boss?: PgBoss;
}

export function queueDeps(deps: CompatDeps): QueueDeps {
  return deps.boss ? { boss: deps.boss } : {};
}

/** The dataset import queue: the given pg-boss, else the service's default (the web process's). */
export function importQueue(deps: CompatDeps): EnqueueImport | undefined {
  const boss = deps.boss;
  if (!boss) return undefined;
  return async (payload) => {
    const [{ enqueueJob }, { jobRegistry }] = await Promise.all([import("@/server/jobs/registry"), import("@/server/jobs/index")]);
    return enqueueJob(boss, jobRegistry, "datasets.import", payload);
  };
}

/**
 * Dialects without a dataset field train on the project's dataset: the one it has, else the
 * client must say which (`dataset_id`).
 */
export async function onlyDatasetOf(ctx: Ctx, project: { id: number; name: string }): Promise<number> {
  const { items } = await listDatasets(ctx, { projectId: project.id });
  if (items.length === 1) return items[0].id;
  if (items.length === 0) throw new Invalid(`Project "${project.name}" has no dataset; import one first`, { dataset_id: ["project has no dataset"] });
  const names = items.map((d) => `${d.id} (${d.name})`).join(", ");
  throw new Invalid(`Project "${project.name}" has ${items.length} datasets: ${names}; send dataset_id to choose one`, { dataset_id: ["required: the project has several datasets"] });
}
