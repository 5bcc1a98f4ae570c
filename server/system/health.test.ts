import os from "node:os";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workers } from "@/db/schema";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { jobRegistry } from "@/server/jobs";
import { startBoss, stopBoss } from "@/server/jobs/boss";
import { enqueueJob } from "@/server/jobs/registry";
import { runWorker, type RunningWorker } from "@/server/jobs/worker-process";
import { startRealtimeServer, type RealtimeServer } from "@/server/realtime/server";
import { checkHealth, publicHealth } from "./health";
import { listWorkers } from "./workers";

let tdb: TestDb;
let worker: RunningWorker | undefined;
let realtime: RealtimeServer;

beforeAll(async () => {
  tdb = await createTestDb();
  realtime = await startRealtimeServer({ db: tdb.db, databaseUrl: tdb.url, port: 0, origin: "http://studio.test", dataDir: os.tmpdir() });
});
afterAll(async () => {
  await worker?.stop(1000);
  await realtime?.close();
  await tdb?.close();
});

describe("health and worker heartbeats", () => {
  it("is down before any worker has installed the queue or beaten a heartbeat", async () => {
    const report = await checkHealth({ db: tdb.db, realtimeUrl: `http://127.0.0.1:${realtime.port}` });
    expect(report.status).toBe("down");
    expect(report.checks.database).toMatchObject({ status: "up", version: expect.stringMatching(/^PostgreSQL \d+/) });
    expect(report.checks.queue).toMatchObject({ status: "down", error: expect.stringContaining("pgboss") });
    expect(report.checks.workers).toMatchObject({ status: "down", workers: [] });
    expect(report.checks.realtime.status).toBe("up");
  });

  it("tells callers without login each check's status and nothing about hosts, versions or errors", async () => {
    const report = await checkHealth({ db: tdb.db, realtimeUrl: `http://127.0.0.1:${realtime.port}` });
    const open = publicHealth(report);
    expect(open).toEqual({ status: report.status, checks: { database: "up", queue: report.checks.queue.status, workers: report.checks.workers.status, realtime: "up" } });
    expect(JSON.stringify(open)).not.toMatch(/PostgreSQL|pgboss|127\.0\.0\.1|version/);
  });

  it("registers a running worker, beats its heartbeat and reports up", async () => {
    worker = await runWorker({ db: tdb.db, databaseUrl: tdb.url, registry: jobRegistry, slots: 2, heartbeatMs: 200, pollingIntervalSeconds: 0.5 });
    const [row] = await tdb.db.select().from(workers).where(eq(workers.id, worker.workerId));
    expect(row).toMatchObject({ kind: "training", host: os.hostname(), pid: process.pid, slots: 2, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(row.devices.some((d) => d.device === "cpu")).toBe(true);

    await tdb.db.update(workers).set({ heartbeatAt: sql`now() - interval '1 minute'` }).where(eq(workers.id, worker.workerId));
    expect((await listWorkers(tdb.db))[0].alive).toBe(false);
    await expect.poll(async () => (await listWorkers(tdb.db))[0].lastBeatSecondsAgo, { timeout: 3000 }).toBeLessThan(1);

    const report = await checkHealth({ db: tdb.db, realtimeUrl: `http://127.0.0.1:${realtime.port}` });
    expect(report.status).toBe("up");
    expect(report.checks.queue).toMatchObject({ status: "up", schema: "pgboss", schemaVersion: expect.any(Number) });
    expect(report.checks.workers.workers).toEqual([{ host: os.hostname(), pid: process.pid, kind: "training", lastBeatSecondsAgo: expect.any(Number), alive: true }]);
  });

  it("works jobs sent from another pg-boss instance (the web server's)", async () => {
    const webBoss = await startBoss(tdb.url, jobRegistry);
    try {
      const id = await enqueueJob(webBoss, jobRegistry, "system.ping", { nonce: "from-web" });
      await expect.poll(async () => (await webBoss.getJobById("system.ping", id))?.state, { timeout: 10_000 }).toBe("completed");
    } finally {
      await stopBoss(webBoss, 1000);
    }
  });

  it("leaves the fleet on stop, which makes the studio report down", async () => {
    await worker!.stop(1000);
    worker = undefined;
    expect(await listWorkers(tdb.db)).toEqual([]);
    const report = await checkHealth({ db: tdb.db, realtimeUrl: "http://127.0.0.1:9" });
    expect(report.status).toBe("down");
    expect(report.checks.workers.status).toBe("down");
    expect(report.checks.realtime.status).toBe("down");
  });
});
