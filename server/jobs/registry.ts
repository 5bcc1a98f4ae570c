import { sql } from "drizzle-orm";
import type PgBoss from "pg-boss";
import { z } from "zod";
import type { Db } from "@/db/client";
import { Invalid, PermanentError, zodFieldErrors } from "@/server/errors";

/** pg-boss keeps its tables in their own schema, beside the studio's. */
export const BOSS_SCHEMA = "pgboss";

/** What a job handler gets besides its payload. */
export interface JobContext {
  jobId: string;
  /** 0 on the first attempt. */
  retryCount: number;
  db: Db;
  boss: PgBoss;
}

/** The returned object is kept as the job's output (visible through `boss.getJobById`). */
export type JobHandler<Payload extends z.ZodType> = (payload: z.output<Payload>, ctx: JobContext) => Promise<object | void>;

export interface RetryPolicy {
  /** Attempts after the first; a handler throwing PermanentError gets none. */
  limit: number;
  delaySeconds: number;
  backoff: boolean;
}

/** For jobs whose handler records its own failure, where a retry would only fail the same way. */
export const NO_RETRY: RetryPolicy = { limit: 0, delaySeconds: 0, backoff: false };

/**
 * A background job as data. Its file imports nothing but the payload's schema: the web server
 * registers and queues every job without loading what any of them does.
 */
export interface JobDefinition<Name extends string = string, Payload extends z.ZodType = z.ZodType> {
  /** Also the pg-boss queue name: `<domain>.<verb>`, e.g. `datasets.import`. */
  name: Name;
  /**
   * The payload's version. Bump it with a change that jobs queued before it no longer parse under:
   * a worker fails such a job at once, naming both, instead of retrying it.
   */
  version: number;
  payload: Payload;
  retry: RetryPolicy;
  /** How long one attempt may run before pg-boss fails it (pg-boss defaults to 15 minutes). */
  expireInSeconds?: number;
  /** Run one of these per worker slot (training), instead of one per worker process. */
  perSlot?: boolean;
  /** A cron expression (UTC): pg-boss queues the job on this schedule, once for all its instances. */
  schedule?: string;
  /** Imported the first time a worker runs the job. */
  loadHandler(): Promise<JobHandler<Payload>>;
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

function payloadProblems(job: AnyJob, payload: unknown): { data: unknown } | { fields: Record<string, string[]>; summary: string } {
  const parsed = job.payload.safeParse(payload);
  if (parsed.success) return { data: parsed.data };
  const fields = zodFieldErrors(parsed.error.issues);
  const summary = Object.entries(fields)
    .map(([field, messages]) => `${field}: ${messages.join(", ")}`)
    .join("; ");
  return { fields, summary };
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
    if (job.schedule) await boss.schedule(job.name, job.schedule, {}, { tz: "UTC" });
  }
}

/**
 * Validates the payload against the job's schema and queues it; resolves to the job id. With `db`
 * (server/jobs/boss.ts bossExecutor(tx)) the job is written in that transaction. Services queue
 * through `enqueue` (server/jobs/enqueue.ts), which fills in the studio's queue and registry.
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
  const checked = payloadProblems(job, payload);
  if ("fields" in checked) throw new InvalidJobPayload(`Invalid payload for job ${job.name}: ${checked.summary}`, checked.fields);
  const id = await boss.send(job.name, checked.data as object, options);
  if (!id) throw new Error(`Job ${job.name} was not queued (a job with singleton key "${options.singletonKey}" is already queued)`);
  return id;
}

/** pg-boss retries any failure up to the queue's limit; this job's attempts end here instead. */
async function endRetries(db: Db, name: string, id: string): Promise<void> {
  await db.execute(sql`UPDATE ${sql.identifier(BOSS_SCHEMA)}.job SET retry_limit = retry_count WHERE name = ${name} AND id = ${id}`);
}

/** The handler of a job, imported once per process, on its first run. */
function handlerLoader(job: AnyJob): () => Promise<JobHandler<z.ZodType>> {
  let loading: Promise<JobHandler<z.ZodType>> | undefined;
  return () => {
    loading ??= job.loadHandler();
    loading.catch(() => (loading = undefined));
    return loading;
  };
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
    const handler = handlerLoader(job);
    const copies = job.perSlot ? options.slots : 1;
    for (let i = 0; i < copies; i++) {
      const id = await boss.work<object>(job.name, { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 }, async ([queued]) => {
        try {
          // Payloads were checked when queued; checking again catches jobs queued by another version.
          const checked = payloadProblems(job, queued.data);
          if ("fields" in checked) throw new PermanentError(`Job ${job.name} ${queued.id} does not carry a version ${job.version} payload (queued by another version of the studio?): ${checked.summary}`);
          return await (await handler())(checked.data, { jobId: queued.id, retryCount: queued.retryCount, db: options.db, boss });
        } catch (error) {
          if (error instanceof PermanentError) await endRetries(options.db, job.name, queued.id);
          throw error;
        }
      });
      workerIds.push(id);
    }
  }
  return workerIds;
}
