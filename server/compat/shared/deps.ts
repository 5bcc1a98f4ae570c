import type { EnqueueImport } from "@/server/datasets/service";
import type { HandlerDeps } from "@/server/http/handler";
import { enqueue, type QueueDeps } from "@/server/jobs/enqueue";

export function queueDeps(deps: HandlerDeps): QueueDeps {
  return deps.boss ? { boss: deps.boss } : {};
}

/** The dataset import queue: the given pg-boss, else the service's default (the web process's). */
export function importQueue(deps: HandlerDeps): EnqueueImport | undefined {
  const boss = deps.boss;
  if (!boss) return undefined;
  return (payload) => enqueue("datasets.import", payload, { boss });
}
