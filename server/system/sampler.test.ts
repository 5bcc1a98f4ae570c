import os from "node:os";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiments, projects, runPlacements, systemSamples, systemSamplesMinute, workers, type SystemSampleRow } from "@/db/schema";
import { seedTeam } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { subscribe, type Subscription } from "@/server/events/bus";
import type { StudioEvent } from "@/server/events/types";
import { rollupAndPrune } from "./samples";
import { startHostSampler, type HostSampler } from "./sampler";

let tdb: TestDb;
let experimentId: number;
const host = os.hostname();
const started: HostSampler[] = [];
let bus: Subscription | undefined;

async function registerWorker(pid: number): Promise<number> {
  const [row] = await tdb.db.insert(workers).values({ kind: "training", host, pid, slots: 1, version: "test" }).returning({ id: workers.id });
  return row.id;
}

async function until<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

beforeAll(async () => {
  tdb = await createTestDb();
  const team = await seedTeam(tdb.db, "Vision");
  const [project] = await tdb.db.select().from(projects).where(eq(projects.teamId, team.id));
  const [experiment] = await tdb.db.insert(experiments).values({ projectId: project.id, name: "sampled", hyperparameters: {}, status: "running" }).returning();
  experimentId = experiment.id;
}, 60_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await bus?.close();
  await tdb?.close();
});

describe("the host sampler", () => {
  it("writes a real sample of this host every second, maps the run's pid, and announces it on the bus", async () => {
    const events: StudioEvent[] = [];
    bus = await subscribe(tdb.url, (event) => events.push(event));
    const leader = await registerWorker(process.pid);
    const follower = await registerWorker(process.pid + 1_000_000);
    const runs = new Map([[experimentId, process.pid]]);
    const sampler = startHostSampler({ db: tdb.db, workerId: () => leader, dataDir: os.tmpdir(), runs: () => runs, intervalMs: 200 });
    const second = startHostSampler({ db: tdb.db, workerId: () => follower, dataDir: os.tmpdir(), runs: () => new Map(), intervalMs: 200 });
    started.push(sampler, second);

    const rows = await until(async () => {
      const found = await tdb.db.select().from(systemSamples).where(eq(systemSamples.host, host));
      return found.length >= 2 && found;
    }, "two samples");
    const sample = rows.at(-1) as SystemSampleRow;
    expect(sample.at.getMilliseconds()).toBe(0);
    expect(sample.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(sample.cpuPercent).toBeLessThanOrEqual(100);
    expect(sample.cpuCores).toHaveLength(os.cpus().length);
    expect(sample.memoryTotal).toBe(os.totalmem());
    expect(sample.memoryUsed).toBeGreaterThan(0);
    expect(sample.diskTotal).toBeGreaterThan(0);
    // This machine has no GPU: no figures, and the reason.
    expect(sample.gpus).toEqual([]);
    expect(sample.gpuUnavailable).toMatch(/nvidia-smi/);
    const run = sample.runs.find((r) => r.experimentId === experimentId);
    expect(run).toMatchObject({ pid: process.pid, gpuMemoryMiB: null });
    expect(run!.rssBytes).toBeGreaterThan(10 * 2 ** 20);

    const placements = await tdb.db.select().from(runPlacements).where(eq(runPlacements.experimentId, experimentId));
    expect(placements).toMatchObject([{ host, pid: process.pid, workerPid: process.pid }]);
    expect(sampler.leading).toBe(true);
    expect(second.leading).toBe(false);
    expect(second.written).toBe(0);

    const event = await until(async () => events.find((e) => e.type === "system.sample"), "a system.sample event");
    expect(event).toMatchObject({ topic: "system", teamId: null, host, gpus: [], gpuUnavailable: expect.stringMatching(/nvidia-smi/) });
  }, 60_000);
});

describe("rollups and retention", () => {
  const figures = (cpuPercent: number, gpuUtil: number, temperatureC: number) => ({
    host: "gpu-box",
    cpuPercent,
    cpuCores: [cpuPercent, cpuPercent],
    load1: 1,
    load5: 1,
    load15: 1,
    memoryUsed: 4e9 + cpuPercent * 1e7,
    memoryTotal: 16e9,
    memoryAvailable: 12e9,
    swapUsed: 0,
    swapTotal: 0,
    diskUsed: 5e10,
    diskTotal: 1e11,
    netRxBytesPerSecond: 100,
    netTxBytesPerSecond: 50,
    gpus: [{ index: 0, uuid: "GPU-a", name: "Card", utilPercent: gpuUtil, memoryUtilPercent: 10, memoryUsedMiB: 1000 + gpuUtil, memoryTotalMiB: 8192, temperatureC, powerW: 100, powerLimitW: 200, smClockMHz: 1500, memoryClockMHz: 5000, fanPercent: 30, processes: [] }],
    gpuUnavailable: null,
    runs: [{ experimentId, pid: 4242, cpuPercent: cpuPercent * 2, rssBytes: 1e9 + cpuPercent, gpuMemoryMiB: 900 }],
  });

  it("rolls each complete minute into means (maxima for memory and temperature) and prunes by age", async () => {
    const currentMinute = Math.floor(Date.now() / 60_000) * 60_000;
    const now = new Date(currentMinute + 30_000);
    const minuteA = new Date(currentMinute - 120_000);
    const rows = [];
    for (let s = 0; s < 60; s++) rows.push({ ...figures(s % 2 === 0 ? 10 : 30, s < 30 ? 40 : 60, 50 + (s === 7 ? 20 : 0)), at: new Date(minuteA.getTime() + s * 1000) });
    rows.push({ ...figures(99, 99, 99), at: new Date(now.getTime() - 5_000) });
    rows.push({ ...figures(50, 50, 50), at: new Date(now.getTime() - 2 * 3600_000) });
    await tdb.db.insert(systemSamples).values(rows);
    await tdb.db.insert(systemSamplesMinute).values({ ...figures(1, 1, 1), minute: new Date(now.getTime() - 31 * 86_400_000), samples: 60, cpuPercentMax: 1 });

    const result = await rollupAndPrune(tdb.db, now);
    const minutes = await tdb.db.select().from(systemSamplesMinute).where(eq(systemSamplesMinute.host, "gpu-box"));
    const rolled = minutes.find((m) => m.minute.getTime() === minuteA.getTime())!;
    expect(rolled).toMatchObject({ samples: 60, cpuPercent: 20, cpuPercentMax: 30, cpuCores: [20, 20] });
    expect(rolled.gpus[0]).toMatchObject({ utilPercent: 50, temperatureC: 70, memoryUsedMiB: 1060 });
    expect(rolled.runs).toEqual([{ experimentId, pid: 4242, cpuPercent: 40, rssBytes: 1e9 + 30, gpuMemoryMiB: 900 }]);
    // The current minute is not complete yet; the 2 h old sample and the 31 d old rollup are gone.
    expect(minutes.every((m) => m.minute.getTime() < currentMinute)).toBe(true);
    expect(minutes.some((m) => m.minute < new Date(now.getTime() - 30 * 86_400_000))).toBe(false);
    expect(result.prunedSamples).toBe(1);
    expect(result.prunedMinutes).toBe(1);
    const left = await tdb.db.select({ at: systemSamples.at }).from(systemSamples).where(eq(systemSamples.host, "gpu-box"));
    expect(left).toHaveLength(61);

    // Run again a minute later: the same minute is rewritten with the same figures, not doubled.
    await rollupAndPrune(tdb.db, new Date(now.getTime() + 60_000));
    const again = await tdb.db.select().from(systemSamplesMinute).where(eq(systemSamplesMinute.host, "gpu-box"));
    expect(again.find((m) => m.minute.getTime() === minuteA.getTime())).toMatchObject({ samples: 60, cpuPercent: 20 });
  });
});
