import type PgBoss from "pg-boss";
import type { DbOrTx } from "@/db/client";
import { bossExecutor, getBoss } from "./boss";
import { jobRegistry } from "./index";
import { enqueueJob, type JobName, type JobPayload } from "./registry";

type StudioJob = JobName<typeof jobRegistry>;

/** Which pg-boss sends: the process's own unless a test or a worker passes one. */
export interface QueueDeps {
  boss?: PgBoss;
}

export interface EnqueueOptions extends QueueDeps {
  /** The transaction that writes the rows the job is about: the job exists exactly when they do. */
  tx?: DbOrTx;
  /** At most one job with this key waits in the queue. */
  singletonKey?: string;
}

/** Queues one of the studio's jobs, its payload checked against the job's schema; resolves to the job id. */
export async function enqueue<N extends StudioJob>(name: N, payload: JobPayload<typeof jobRegistry, N>, options: EnqueueOptions = {}): Promise<string> {
  const boss = options.boss ?? (await getBoss());
  return enqueueJob(boss, jobRegistry, name, payload, {
    ...(options.tx && { db: bossExecutor(options.tx) }),
    ...(options.singletonKey !== undefined && { singletonKey: options.singletonKey }),
  });
}
