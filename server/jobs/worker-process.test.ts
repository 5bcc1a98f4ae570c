import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type PgBoss from "pg-boss";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { publish } from "@/server/events/bus";
import { startBoss, stopBoss } from "./boss";
import { jobRegistry } from "./index";
import { enqueueJob } from "./registry";
import { runWorker, type RunningWorker } from "./worker-process";

let tdb: TestDb;
let worker: RunningWorker;
let webBoss: PgBoss;

beforeAll(async () => {
  tdb = await createTestDb();
  // Polling so slow that only the wake-up can explain a prompt start.
  worker = await runWorker({ db: tdb.db, databaseUrl: tdb.url, registry: jobRegistry, slots: 1, pollingIntervalSeconds: 30 });
  webBoss = await startBoss(tdb.url, jobRegistry);
});
afterAll(async () => {
  await stopBoss(webBoss, 1000);
  await worker?.stop(1000);
  await tdb?.close();
});

describe("training worker wake-ups", () => {
  it("starts a job as soon as an experiment is announced queued, instead of at its next poll", async () => {
    const id = await enqueueJob(webBoss, jobRegistry, "system.ping", { nonce: "wake" });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await webBoss.getJobById("system.ping", id))?.state).toBe("created");

    await publish(tdb.db, { type: "experiment.status", teamId: 1, topic: "experiment:1", experimentId: 1, status: "queued", progress: 0, currentEpoch: 0, totalEpochs: 1, error: null });
    await expect.poll(async () => (await webBoss.getJobById("system.ping", id))?.state, { timeout: 5000, interval: 100 }).toBe("completed");
  });
});
