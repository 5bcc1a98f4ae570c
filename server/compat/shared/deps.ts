import type PgBoss from "pg-boss";
import type { Db } from "@/db/client";
import type { EnqueueImport } from "@/server/datasets/service";
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
