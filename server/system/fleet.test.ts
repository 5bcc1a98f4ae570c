import { eq, sql } from "drizzle-orm";
import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiments, projects } from "@/db/schema";
import { ctxFor, seedMemberAndOutsider, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { Conflict, Forbidden } from "@/server/errors";
import { getExperiment } from "@/server/experiments/queries";
import { startBoss, stopBoss } from "@/server/jobs/boss";
import { jobRegistry } from "@/server/jobs/index";
import { enqueueJob } from "@/server/jobs/registry";
import { cancelQueuedRun, fleetView, reprioritiseQueuedRun } from "./fleet";
import { runSystemSeries } from "./run-series";
import { startTestSampler } from "./testing";

let tdb: TestDb;
let boss: PgBoss;
let member: Ctx;
let outsider: Ctx;
let admin: Ctx;
const queued: number[] = [];
let running: number;
let stopSampler: () => Promise<void>;

async function insertExperiment(projectId: number, name: string, values: Partial<typeof experiments.$inferInsert> = {}) {
  const [row] = await tdb.db.insert(experiments).values({ projectId, name, hyperparameters: {}, ...values }).returning({ id: experiments.id });
  return row.id;
}

beforeAll(async () => {
  tdb = await createTestDb();
  const seeded = await seedMemberAndOutsider(tdb.db);
  member = seeded.member;
  outsider = seeded.outsider;
  const a = await seedUser(tdb.db, { email: "admin@x.io", isAdmin: true, teams: [{ teamId: seeded.team.id, role: "owner" }] });
  admin = await ctxFor(tdb.db, a.id, seeded.team.id);
  boss = await startBoss(tdb.url, jobRegistry);
  const [mine] = await tdb.db.select().from(projects).where(eq(projects.teamId, seeded.team.id));
  const [theirs] = await tdb.db.select().from(projects).where(eq(projects.teamId, seeded.other.id));
  // Three waiting runs, queued a second apart: two of this team, one of the other team.
  for (const [project, name, ago] of [[mine.id, "first", 30], [theirs.id, "secret-run", 20], [mine.id, "third", 10]] as const) {
    const id = await insertExperiment(project, name, { status: "queued", queuedAt: new Date(Date.now() - ago * 1000) });
    await enqueueJob(boss, jobRegistry, "experiments.train", { experimentId: id, attempt: 0 });
    queued.push(id);
  }
  running = await insertExperiment(mine.id, "training-now", { status: "running", startedAt: new Date(), deviceRequested: "auto", backend: "wasm" });
  const sampler = await startTestSampler(tdb.db, { runs: () => new Map([[running, process.pid]]) });
  stopSampler = () => sampler.stop();
  for (let i = 0; i < 200 && ((await runSystemSeries(member, { id: running })).windows[0]?.points.length ?? 0) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
}, 120_000);

afterAll(async () => {
  await stopSampler?.();
  if (boss) await stopBoss(boss, 2000);
  await tdb?.close();
});

describe("the fleet view", () => {
  it("shows the host with its CPU device, slots in use and the run on it, without a GPU and saying why", async () => {
    const view = await fleetView(member);
    expect(view.canManage).toBe(false);
    const [host] = view.hosts;
    expect(host).toMatchObject({ down: false, sampled: true, slots: 2, slotsInUse: 1, gpuUnavailable: expect.stringMatching(/nvidia-smi/) });
    expect(host.devices.map((d) => d.device)).toEqual(["cpu"]);
    expect(host.devices[0].memoryTotalBytes).toBeGreaterThan(0);
    expect(host.devices[0].sparkline.length).toBeGreaterThanOrEqual(1);
    expect(host.runs).toEqual([expect.objectContaining({ experimentId: running, name: "training-now", ownTeam: true, pid: process.pid, device: "wasm" })]);
  });

  it("lists the queue in start order with waiting times, naming only the caller's team's runs", async () => {
    const { queue } = await fleetView(member);
    expect(queue.map((q) => [q.position, q.name, q.ownTeam])).toEqual([
      [1, "first", true],
      [2, null, false],
      [3, "third", true],
    ]);
    expect(queue[0].waitingSeconds).toBeGreaterThanOrEqual(29);
    expect(queue[1]).toMatchObject({ experimentId: null, teamName: null });
    // The other team sees its own run by name and ours anonymously; the administrator sees all.
    expect((await fleetView(outsider)).queue.map((q) => q.name)).toEqual([null, "secret-run", null]);
    expect((await fleetView(admin)).queue.map((q) => q.name)).toEqual(["first", "secret-run", "third"]);
  });

  it("the run's system series covers its process's window on its host, with the process's own figures", async () => {
    const { windows } = await runSystemSeries(member, { id: running });
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatchObject({ resolution: "1s", pid: process.pid, gpuUnavailable: expect.stringMatching(/nvidia-smi/) });
    const point = windows[0].points.at(-1)!;
    expect(point.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(point.gpuUtilPercent).toBeNull();
    expect(point.run?.rssBytes).toBeGreaterThan(0);
    await expect(runSystemSeries(outsider, { id: running })).rejects.toThrow(/not found/);
  });
});

describe("administering the queue", () => {
  it("refuses members: only studio administrators cancel or re-prioritise", async () => {
    await expect(cancelQueuedRun(member, { experimentId: queued[0] })).rejects.toBeInstanceOf(Forbidden);
    await expect(reprioritiseQueuedRun(member, { experimentId: queued[0], priority: 10 })).rejects.toBeInstanceOf(Forbidden);
  });

  it("moves a waiting run to the front by its job's priority, which is the order pg-boss hands jobs out in", async () => {
    const moved = await reprioritiseQueuedRun(admin, { experimentId: queued[2], priority: 10 });
    expect(moved).toEqual({ experimentId: queued[2], priority: 10, position: 1 });
    expect((await getExperiment(member, queued[2])).queuePosition).toBe(1);
    expect((await getExperiment(member, queued[0])).queuePosition).toBe(2);
    const [next] = await boss.fetch<{ experimentId: number }>("experiments.train");
    expect(next.data.experimentId).toBe(queued[2]);
    // Fetched: it is no longer waiting, so it cannot be moved any more.
    await expect(reprioritiseQueuedRun(admin, { experimentId: queued[2], priority: 0 })).rejects.toBeInstanceOf(Conflict);
  });

  it("cancels another team's waiting run: stopped, its job cancelled, the queue closes up", async () => {
    await tdb.db.update(experiments).set({ status: "running" }).where(eq(experiments.id, queued[2]));
    expect(await cancelQueuedRun(admin, { experimentId: queued[1] })).toEqual({ experimentId: queued[1], status: "stopped" });
    expect((await getExperiment(outsider, queued[1])).status).toBe("stopped");
    const jobs = await tdb.db.execute(sql`select state from pgboss.job where name = 'experiments.train' and data->>'experimentId' = ${String(queued[1])}`);
    expect(jobs.map((j) => j.state)).toEqual(["cancelled"]);
    expect((await fleetView(member)).queue.map((q) => q.experimentId)).toEqual([queued[0]]);
    await expect(cancelQueuedRun(admin, { experimentId: queued[1] })).rejects.toBeInstanceOf(Conflict);
  });
});
