import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { subscribe, type Subscription } from "@/server/events/bus";
import type { StudioEvent } from "@/server/events/types";
import { bossExecutor, startBoss, stopBoss } from "./boss";
import { jobRegistry } from "./index";
import { PermanentError } from "@/server/errors";
import { createJobRegistry, defineJob, enqueueJob, InvalidJobPayload, UnknownJob, workJobs } from "./registry";

const attemptsSeen: number[] = [];
const flakyJob = defineJob({
  name: "test.flaky",
  version: 1,
  payload: z.object({ failTimes: z.number().int() }),
  retry: { limit: 2, delaySeconds: 0, backoff: false },
  loadHandler: async () =>
    async ({ failTimes }, { retryCount }) => {
      attemptsSeen.push(retryCount);
      if (retryCount < failTimes) throw new Error(`attempt ${retryCount} fails on purpose`);
      return { succeededOnAttempt: retryCount };
    },
});
const permanentAttempts: number[] = [];
const hopelessJob = defineJob({
  name: "test.hopeless",
  version: 2,
  payload: z.object({ reason: z.string() }),
  retry: { limit: 3, delaySeconds: 0, backoff: false },
  loadHandler: async () => async ({ reason }, { retryCount }) => {
    permanentAttempts.push(retryCount);
    throw new PermanentError(reason);
  },
});
const testRegistry = createJobRegistry([...jobRegistry.jobs, flakyJob, hopelessJob] as const);

let tdb: TestDb;
let boss: PgBoss;
let subscription: Subscription;
const events: StudioEvent[] = [];

async function waitForJob(name: string, id: string, state: "completed" | "failed") {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const job = await boss.getJobById<object>(name, id);
    if (job?.state === state) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${name} ${id} did not reach ${state}`);
}

beforeAll(async () => {
  tdb = await createTestDb();
  boss = await startBoss(tdb.url, testRegistry);
  await workJobs(boss, testRegistry, { db: tdb.db, slots: 1, pollingIntervalSeconds: 0.5 });
  subscription = await subscribe(tdb.url, (e) => events.push(e));
});
afterAll(async () => {
  await subscription?.close();
  await stopBoss(boss, 1000);
  await tdb?.close();
});

describe("job registry on pg-boss", () => {
  it("creates a queue per registered job in the pgboss schema", async () => {
    const queues = (await boss.getQueues()).map((q) => q.name);
    expect(queues).toEqual(expect.arrayContaining(["system.ping", "test.flaky"]));
    const [row] = await tdb.sql`SELECT retry_limit FROM pgboss.queue WHERE name = 'test.flaky'`;
    expect(row.retry_limit).toBe(2);
  });

  it("round-trips system.ping: the worker completes it, keeps its output and publishes a pong", async () => {
    const nonce = `n-${Date.now()}`;
    const id = await enqueueJob(boss, testRegistry, "system.ping", { nonce });
    const job = await waitForJob("system.ping", id, "completed");
    expect(job.output).toMatchObject({ nonce });
    await expect.poll(() => events.find((e) => e.type === "system.pong" && e.nonce === nonce)).toMatchObject({ topic: "system", teamId: null, jobId: id });
  });

  it("retries a failing job as its definition says", async () => {
    const id = await enqueueJob(boss, testRegistry, "test.flaky", { failTimes: 1 });
    const job = await waitForJob("test.flaky", id, "completed");
    expect(job.output).toEqual({ succeededOnAttempt: 1 });
    expect(attemptsSeen).toEqual([0, 1]);
  });

  it("fails a job whose handler throws PermanentError at once, leaving its retries unused", async () => {
    const id = await enqueueJob(boss, testRegistry, "test.hopeless", { reason: "cannot ever work" });
    const job = await waitForJob("test.hopeless", id, "failed");
    expect(job.retryCount).toBe(0);
    expect(job.output).toMatchObject({ message: "cannot ever work" });
    expect(permanentAttempts).toEqual([0]);
  });

  it("fails a job queued with a payload of another version without running or retrying it", async () => {
    const id = (await boss.send("test.hopeless", { cause: "an older payload" }))!;
    const job = await waitForJob("test.hopeless", id, "failed");
    expect(job.retryCount).toBe(0);
    expect(job.output).toMatchObject({ message: expect.stringMatching(/test\.hopeless.*version 2.*reason/) });
    expect(permanentAttempts).toEqual([0]);
  });

  it("refuses a payload that does not match the job's schema, naming the field", async () => {
    const bad = enqueueJob(boss, testRegistry, "system.ping", { nonce: 42 } as unknown as { nonce: string });
    await expect(bad).rejects.toBeInstanceOf(InvalidJobPayload);
    await expect(bad).rejects.toThrow(/system\.ping.*nonce/);
    await expect(bad).rejects.toMatchObject({ fields: { nonce: [expect.any(String)] } });
  });

  it("refuses a job name nobody registered", async () => {
    await expect(enqueueJob(boss, testRegistry, "no.such" as "system.ping", { nonce: "x" })).rejects.toBeInstanceOf(UnknownJob);
  });

  it("writes a job sent with a transaction's executor in that transaction: invisible until commit, gone on rollback", async () => {
    let insideId = "";
    await tdb.db.transaction(async (tx) => {
      insideId = await enqueueJob(boss, testRegistry, "system.ping", { nonce: "in-tx" }, { db: bossExecutor(tx) });
      // Another connection (the worker's) cannot see, and so cannot fetch, the job yet.
      expect(await boss.getJobById("system.ping", insideId)).toBeNull();
    });
    const done = await waitForJob("system.ping", insideId, "completed");
    expect(done.data).toEqual({ nonce: "in-tx" });

    let rolledBackId = "";
    await expect(
      tdb.db.transaction(async (tx) => {
        rolledBackId = await enqueueJob(boss, testRegistry, "system.ping", { nonce: "rolled-back" }, { db: bossExecutor(tx) });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(rolledBackId).not.toBe("");
    expect(await boss.getJobById("system.ping", rolledBackId)).toBeNull();
  });
});
