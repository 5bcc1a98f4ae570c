import { chmod, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import type PgBoss from "pg-boss";
import { io as connectSocket, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimentMetrics } from "@/db/schema";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { startRestartablePostgres, type RestartablePostgres } from "@/db/testing/restartable-postgres";
import { createApiKey } from "@/server/auth/api-keys";
import { signApiJwt } from "@/server/auth/jwt";
import { getTaskStatus } from "@/server/compat/task-status/handlers";
import { getV1Experiment } from "@/server/compat/studio-v1/experiments";
import type { Ctx } from "@/server/context";
import { resetEnvCache } from "@/server/env";
import type { StudioEvent } from "@/server/events/types";
import { stopBoss } from "@/server/jobs/boss";
import { defaultProject } from "@/server/projects/service";
import type { ClientToServerEvents, ServerToClientEvents } from "@/server/realtime/protocol";
import { startRealtimeServer, type RealtimeServer } from "@/server/realtime/server";
import { checkHealth } from "@/server/system/health";
import { createTrpcContext } from "@/server/trpc/init";
import { runningChildren } from "./job";
import { createExperiment } from "./lifecycle";
import { getExperiment, getExperimentLogs } from "./queries";
import type { Reaper } from "./reaper";
import { routeContext } from "@/server/compat/shared/testing";
import { importShapesDataset, startTrainingQueue } from "./testing";

const ORIGIN = "http://studio.test";
// The reaper gives heartbeats this long to come back after an outage: room for a loaded CI host.
const STALE_SECONDS = 5;
let pg: RestartablePostgres;
let boss: PgBoss;
let reaper: Reaper;
let realtime: RealtimeServer;
let member: Ctx;
let projectId: number;
let datasetId: number;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), "outage-"));
  await chmod(work, 0o755);
  process.env.STUDIO_IMPORT_ROOTS = path.join(work, "imports");
  resetEnvCache();
  pg = await startRestartablePostgres();
  ({ member } = await seedMemberAndOutsider(pg.db));
  projectId = (await defaultProject(member)).id;
  datasetId = await importShapesDataset(pg.db, member, projectId, path.join(work, "imports"));

  const dataDir = path.join(work, "data");
  ({ boss, reaper } = await startTrainingQueue(pg.db, pg.url, { dataDir, heartbeatMs: 250 }, STALE_SECONDS));
  realtime = await startRealtimeServer({ db: pg.db, databaseUrl: pg.url, port: 0, origin: ORIGIN, dataDir, busProbeIntervalMs: 300 });
}, 120_000);

afterAll(async () => {
  reaper?.stop();
  for (const pid of runningChildren.values()) process.kill(pid, "SIGKILL");
  await realtime?.close();
  await stopBoss(boss, 2000).catch(() => {});
  await pg?.close();
});

describe("a PostgreSQL restart in the middle of a run", () => {
  it("is survived: the run resumes in the same attempt, no row is lost or doubled, the outage answers 503, sockets replay", { timeout: 180_000 }, async () => {
    const { key } = await createApiKey(member, { name: "outage" });
    const { token: jwt } = await signApiJwt(member.caller.userId, member.caller.teamId);
    const run = await createExperiment(
      member,
      { projectId, name: "through-an-outage", datasetId, model: "reference-cnn", hyperparameters: { epochs: 4, batch: 8, imgsz: 32, log_every: 1, seed: 1 }, device: "auto", start: true },
      { boss },
    );
    const topic = `experiment:${run.id}`;

    // A studio page's socket: after a "resync" it asks for what it missed since the last line it has.
    const client: Socket<ServerToClientEvents, ClientToServerEvents> = connectSocket(`http://127.0.0.1:${realtime.port}`, { transports: ["websocket"], auth: { token: key }, extraHeaders: { origin: ORIGIN } });
    const seen = new Set<number>();
    let resyncs = 0;
    client.on("event", (event: StudioEvent) => {
      if (event.type === "experiment.log" && event.seq !== undefined) seen.add(event.seq);
    });
    const subscribe = () => client.emit("subscribe", { topic, since: Math.max(0, ...seen.keys()) });
    client.on("resync", () => {
      resyncs++;
      subscribe();
    });
    client.on("connect", subscribe);

    try {
      await waitFor("the first step", async () => (await pg.db.select().from(experimentMetrics).where(eq(experimentMetrics.experimentId, run.id))).length > 0);
      await pg.stop();

      const health = await checkHealth({ db: pg.db, realtimeUrl: `http://127.0.0.1:${realtime.port}` });
      expect(health).toMatchObject({ status: "down", checks: { database: { status: "down" }, realtime: { status: "up" } } });
      const bearer = { headers: { authorization: `Bearer ${jwt}` } };
      const taskStatus = await getTaskStatus(new Request(`http://studio.test/task_status/${run.id}`, bearer), routeContext({ task_id: String(run.id) }, { db: pg.db }));
      expect(taskStatus.status).toBe(503);
      expect(await taskStatus.json()).toMatchObject({ code: 1, data: null });
      const v1 = await getV1Experiment(new Request(`http://studio.test/api/v1/experiments/${run.id}`, bearer), routeContext({ id: String(run.id) }, { db: pg.db }));
      expect(v1.status).toBe(503);
      expect(await v1.json()).toHaveProperty("detail");
      await expect(createTrpcContext(new Request("http://studio.test/api/trpc/experiments.list", bearer), pg.db)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });

      // Longer than the reaper's stale limit: nobody could beat a heartbeat meanwhile.
      await new Promise((resolve) => setTimeout(resolve, (STALE_SECONDS + 1) * 1000));
      await pg.start();

      await waitFor("the run to complete", async () => (await getExperiment(member, run.id)).status === "completed", 120_000);
      const done = await getExperiment(member, run.id);
      // On failure, the run's own account of what happened.
      const story = (await getExperimentLogs(member, { id: run.id })).filter((l) => l.stage !== "training" && l.stage !== "validation").map((l) => `${l.at.toISOString()} ${l.message}`);
      expect(done, story.join("\n")).toMatchObject({ attempt: 1, retries: 0, progress: 100 });

      const metrics = await pg.db.select().from(experimentMetrics).where(and(eq(experimentMetrics.experimentId, run.id)));
      const stepsOf = (epoch: number) => metrics.filter((m) => m.epoch === epoch).map((m) => m.step).sort((a, b) => a - b);
      for (const epoch of [1, 2, 3, 4]) expect(stepsOf(epoch)).toEqual([0, 1, 2, 3]);

      const logs = await getExperimentLogs(member, { id: run.id });
      expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i + 1));
      for (const epoch of [1, 2, 3, 4]) expect(logs.filter((l) => l.message === `Epoch [${epoch}/4] started`)).toHaveLength(1);
      expect(logs.filter((l) => l.stage === "completed")).toHaveLength(1);

      await waitFor("every line on the socket", async () => logs.every((l) => seen.has(l.seq)), 10_000);
      expect(resyncs).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });
});
