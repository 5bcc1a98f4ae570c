import type PgBoss from "pg-boss";
import { z } from "zod";
import type { Db } from "@/db/client";
import { Invalid, zodFieldErrors } from "@/server/errors";

/** What a job handler gets besides its payload. */
export interface JobContext {
  jobId: string;
  /** 0 on the first attempt. */
  retryCount: number;
  db: Db;
  boss: PgBoss;
}

export interface JobDefinition<Name extends string = string, Payload extends z.ZodType = z.ZodType> {
  /** Also the pg-boss queue name: `<domain>.<verb>`, e.g. `datasets.import`. */
  name: Name;
  payload: Payload;
  /** The returned object is kept as the job's output (visible through `boss.getJobById`). */
  handler(payload: z.output<Payload>, ctx: JobContext): Promise<object | void>;
  retry: { limit: number; delaySeconds: number; backoff: boolean };
  /** How long one attempt may run before pg-boss fails it (pg-boss defaults to 15 minutes). */
  expireInSeconds?: number;
  /** Run one of these per worker slot (training), instead of one per worker process. */
  perSlot?: boolean;
}

export function defineJob<const Name extends string, Payload extends z.ZodType>(definition: JobDefinition<Name, Payload>): JobDefinition<Name, Payload> {
  return definition;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers differ in payload type; each is checked at its defineJob.
type AnyJob = JobDefinition<string, any>;

export interface JobRegistry<Jobs extends readonly AnyJob[] = readonly AnyJob[]> {
  jobs: Jobs;
  byName: ReadonlyMap<string, AnyJob>;
}

export type JobName<R extends JobRegistry> = R["jobs"][number]["name"];
export type JobPayload<R extends JobRegistry, N extends JobName<R>> = z.input<Extract<R["jobs"][number], { name: N }>["payload"]>;

export function createJobRegistry<const Jobs extends readonly AnyJob[]>(jobs: Jobs): JobRegistry<Jobs> {
  const byName = new Map<string, AnyJob>();
  for (const job of jobs) {
    if (byName.has(job.name)) throw new Error(`Job ${job.name} is defined twice`);
    byName.set(job.name, job);
  }
  return { jobs, byName };
}

export class UnknownJob extends Error {
  constructor(name: string) {
    super(`No job named "${name}" is registered (see server/jobs/index.ts)`);
    this.name = "UnknownJob";
  }
}

/** A payload that does not match its job's schema; `fields` names each wrong field. */
export class InvalidJobPayload extends Invalid {}

function validatePayload(job: AnyJob, payload: unknown): unknown {
  const parsed = job.payload.safeParse(payload);
  if (parsed.success) return parsed.data;
  const fields = zodFieldErrors(parsed.error.issues);
  const summary = Object.entries(fields)
    .map(([field, messages]) => `${field}: ${messages.join(", ")}`)
    .join("; ");
  throw new InvalidJobPayload(`Invalid payload for job ${job.name}: ${summary}`, fields);
}

function queueOptions(job: AnyJob): Omit<PgBoss.Queue, "name"> {
  return {
    retryLimit: job.retry.limit,
    retryDelay: job.retry.delaySeconds,
    retryBackoff: job.retry.backoff,
    ...(job.expireInSeconds !== undefined && { expireInSeconds: job.expireInSeconds }),
  };
}

/** pg-boss 10 refuses to send to or work a queue that does not exist. Idempotent; updates retry settings. */
export async function createQueues(boss: PgBoss, registry: JobRegistry): Promise<void> {
  for (const job of registry.jobs) {
    await boss.createQueue(job.name, { name: job.name, ...queueOptions(job) });
    await boss.updateQueue(job.name, { name: job.name, ...queueOptions(job) });
  }
}

/**
 * Validates the payload against the job's schema and queues it; resolves to the job id. With `db`
 * (server/jobs/boss.ts bossExecutor(tx)) the job is written in that transaction.
 */
export async function enqueueJob<R extends JobRegistry, N extends JobName<R>>(
  boss: PgBoss,
  registry: R,
  name: N,
  payload: JobPayload<R, N>,
  options: Pick<PgBoss.SendOptions, "singletonKey" | "startAfter" | "priority" | "db"> = {},
): Promise<string> {
  const job = registry.byName.get(name);
  if (!job) throw new UnknownJob(name);
  const data = validatePayload(job, payload) as object;
  const id = await boss.send(job.name, data, options);
  if (!id) throw new Error(`Job ${job.name} was not queued (a job with singleton key "${options.singletonKey}" is already queued)`);
  return id;
}

/**
 * Works every registered job in this process. pg-boss 10 hands handlers an array; with the default
 * batch size of one it holds exactly one job, and the handler's result becomes that job's output.
 */
export async function workJobs(
  boss: PgBoss,
  registry: JobRegistry,
  options: { db: Db; slots: number; pollingIntervalSeconds?: number },
): Promise<string[]> {
  const workerIds: string[] = [];
  for (const job of registry.jobs) {
    const copies = job.perSlot ? options.slots : 1;
    for (let i = 0; i < copies; i++) {
      const id = await boss.work<object>(job.name, { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 }, async ([queued]) => {
        // Payloads were checked when queued; checking again catches jobs queued by an older version.
        const payload = validatePayload(job, queued.data);
        return job.handler(payload, { jobId: queued.id, retryCount: queued.retryCount, db: options.db, boss });
      });
      workerIds.push(id);
    }
  }
  return workerIds;
}
