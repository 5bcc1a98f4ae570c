import type { EnqueueImport } from "@/server/datasets/service";
import type { QueueDeps } from "@/server/experiments/lifecycle";
import type { HandlerDeps } from "@/server/http/handler";

export function queueDeps(deps: HandlerDeps): QueueDeps {
  return deps.boss ? { boss: deps.boss } : {};
}

/** The dataset import queue: the given pg-boss, else the service's default (the web process's). */
export function importQueue(deps: HandlerDeps): EnqueueImport | undefined {
  const boss = deps.boss;
  if (!boss) return undefined;
  return async (payload) => {
    const [{ enqueueJob }, { jobRegistry }] = await Promise.all([import("@/server/jobs/registry"), import("@/server/jobs/index")]);
    return enqueueJob(boss, jobRegistry, "datasets.import", payload);
  };
}
