import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import type PgBoss from "pg-boss";
import { io as connectSocket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasets, experimentLogs, experimentMetrics, experiments } from "@/db/schema";
import { ctxFor, seedMemberAndOutsider, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { createArchitecture } from "@/server/architectures/service";
import { createAugmentation } from "@/server/augmentations/service";
import { createApiKey } from "@/server/auth/api-keys";
import type { Ctx } from "@/server/context";
import { resetEnvCache } from "@/server/env";
import { Conflict, NotFound } from "@/server/errors";
import type { StudioEvent } from "@/server/events/types";
import { stopBoss } from "@/server/jobs/boss";
import { zooGraph } from "@/server/ml/zoo/index";
import { defaultProject } from "@/server/projects/service";
import "@/server/realtime/extensions";
import { startRealtimeServer, type RealtimeServer } from "@/server/realtime/server";
import { saveExperimentWeights } from "@/server/weights/save-experiment";
import { runningChildren } from "./job";
import { appendLog, claimLease, LeaseLost, recordMetrics } from "./lease";
import { createExperiment, deleteExperiment, pauseExperiment, resumeExperiment, startExperiment, stopExperiment } from "./lifecycle";
import { getExperiment, getExperimentLogs, getExperimentMetrics } from "./queries";
import type { Reaper } from "./reaper";
import { importShapesDataset, startTrainingQueue } from "./testing";

let tdb: TestDb;
let boss: PgBoss;
let reaper: Reaper;
let member: Ctx;
let outsider: Ctx;
let projectId: number;
let datasetId: number;
let dataDir: string;

const HYPER = { epochs: 2, batch: 8, imgsz: 32, log_every: 1, seed: 1, optimizer: "AdamW" as const, lr0: 0.003 };

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const statusOf = async (id: number) => (await getExperiment(member, id)).status;
const waitStatus = (id: number, status: string, timeoutMs?: number) =>
  waitFor(`experiment ${id} ${status}`, async () => (await statusOf(id)) === status, timeoutMs).catch(async (error: Error) => {
    // The run's own log says why it never got there.
    const logs = (await getExperimentLogs(member, { id })).slice(-8).map((l) => `${l.seq} ${l.stage}: ${l.message}`);
    throw new Error(`${error.message} (it is ${await statusOf(id)}); last log lines:\n${logs.join("\n")}`);
  });

async function epochRows(id: number) {
  return tdb.db
    .select()
    .from(experimentMetrics)
    .where(and(eq(experimentMetrics.experimentId, id), eq(experimentMetrics.step, 0)))
    .orderBy(experimentMetrics.epoch);
}

beforeAll(async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), "experiments-"));
  // As a default data folder is: command runs (as an unprivileged user under root) must reach their run folder.
  await chmod(work, 0o755);
  process.env.STUDIO_ALLOW_COMMANDS = "true";
  dataDir = path.join(work, "data");
  process.env.STUDIO_DATA_DIR = dataDir;
  process.env.STUDIO_IMPORT_ROOTS = path.join(work, "imports");
  resetEnvCache();
  tdb = await createTestDb();
  ({ member, outsider } = await seedMemberAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;

  datasetId = await importShapesDataset(tdb.db, member, projectId, path.join(work, "imports"));
  ({ boss, reaper } = await startTrainingQueue(tdb.db, tdb.url, { dataDir, heartbeatMs: 250, stopGraceMs: 20_000 }, 2));
}, 60_000);

afterAll(async () => {
  reaper?.stop();
  for (const pid of runningChildren.values()) process.kill(pid, "SIGKILL");
  await stopBoss(boss, 2000);
  await tdb?.close();
});

const create = (name: string, hyperparameters: Record<string, unknown> = HYPER) =>
  createExperiment(member, { projectId, name, datasetId, model: "reference-cnn", hyperparameters, device: "auto", start: true }, { boss });

describe("experiment lifecycle on a real worker", () => {
  let completedId: number;

  it("trains a queued experiment to completion, with a metrics row per epoch and seed-001 log lines", async () => {
    const created = await create("full-run");
    expect(created.status).toBe("queued");
    expect(created.queuePosition).toBe(1);
    completedId = created.id;
    await waitStatus(created.id, "completed");

    const done = await getExperiment(member, created.id);
    expect(done).toMatchObject({ progress: 100, currentEpoch: 2, totalEpochs: 2, attempt: 1, bestEpoch: expect.any(Number), error: null });
    expect(done.backend).toBeTruthy();
    expect(done.latestMetrics).toHaveProperty("val_acc");
    expect(done).not.toHaveProperty("leaseToken");
    expect((await epochRows(created.id)).map((r) => r.epoch)).toEqual([1, 2]);
    expect((await getExperimentMetrics(member, created.id)).some((p) => p.step > 0 && p.values.loss > 0)).toBe(true);

    const logs = await getExperimentLogs(member, { id: created.id });
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i + 1));
    expect(logs.find((l) => l.message === "Epoch [2/2] started")).toMatchObject({ stage: "epoch_start", metrics: { epoch: 2, total_epochs: 2 } });
    expect(logs.find((l) => l.message.startsWith("Train Loss:"))).toMatchObject({ stage: "training", metrics: { train_loss: expect.any(Number), train_acc: expect.any(Number) } });
    expect(logs.find((l) => l.message.startsWith("Validation macro_F1"))?.stage).toBe("validation");
    expect(logs.at(-1)?.stage).toBe("completed");
    expect(logs.at(-1)?.message).toMatch(/saved to runs\/default\/full-run/);
    expect(logs.filter((l) => l.message.includes(dataDir))).toEqual([]);
    expect(existsSync(path.join(done.runDir!, "weights", "last.ckpt"))).toBe(true);
    expect(done.runDir!.startsWith(path.join(dataDir, "runs", "default", "full-run"))).toBe(true);
  }, 60_000);

  it("trains the team's architecture with its augmentation pipeline, then fine-tunes from the run's saved weights", async () => {
    const graph = zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 }) as unknown as { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };
    const architecture = await createArchitecture(member, { projectId, name: "cnn", description: "", task: "classify", graph });
    const augmentation = await createAugmentation(member, { projectId, name: "flips", pipeline: [{ op: "hflip", p: 1 }] });
    const trained = await createExperiment(member, { projectId, name: "architecture-run", datasetId, architectureId: architecture.id, augmentationId: augmentation.id, hyperparameters: HYPER, start: true }, { boss });
    await waitStatus(trained.id, "completed");
    const args = JSON.parse(await readFile(path.join((await getExperiment(member, trained.id)).runDir!, "args.json"), "utf8"));
    expect(args.augment).toEqual([expect.objectContaining({ op: "hflip", p: 1 })]);
    expect(args.model.nodes).toHaveLength(graph.nodes.length);

    const saved = await saveExperimentWeights(member, trained.id, { which: "best" });
    const tuned = await createExperiment(member, { projectId, name: "fine-tuned-run", datasetId, architectureId: architecture.id, hyperparameters: { ...HYPER, weights: saved.id }, start: true }, { boss });
    await waitStatus(tuned.id, "completed");
    const logs = await getExperimentLogs(member, { id: tuned.id });
    expect(logs.find((l) => l.message.startsWith("Transferred"))?.message).toMatch(/^Transferred (\d+)\/\1 tensors from pretrained weights/);
  }, 120_000);

  it("hides another team's experiment", async () => {
    await expect(getExperiment(outsider, completedId)).rejects.toBeInstanceOf(NotFound);
    await expect(stopExperiment(outsider, completedId)).rejects.toBeInstanceOf(NotFound);
  });

  it("pause then resume ends with the same metrics as the uninterrupted run", async () => {
    const paused = await create("paused-run");
    // Pausing as soon as the run is claimed: its child process then takes seconds to start while the
    // pause arrives within a heartbeat. Waiting for a first step instead raced the whole (tiny) run.
    await waitStatus(paused.id, "running");
    await pauseExperiment(member, paused.id);
    await waitStatus(paused.id, "paused");
    expect((await getExperiment(member, paused.id)).progress).toBeLessThan(100);
    await expect(startExperiment(member, paused.id, { boss })).rejects.toBeInstanceOf(Conflict);

    await resumeExperiment(member, { id: paused.id }, { boss });
    await waitStatus(paused.id, "completed");
    const reference = await epochRows(completedId);
    const resumed = await epochRows(paused.id);
    expect(resumed.map((r) => r.epoch)).toEqual([1, 2]);
    for (const [i, row] of resumed.entries()) {
      for (const key of ["train_loss", "val_loss", "val_acc"]) expect(row.values[key]).toBeCloseTo(reference[i].values[key], 3);
    }
    const logs = await getExperimentLogs(member, { id: paused.id });
    expect(logs.some((l) => l.message.startsWith("Resuming"))).toBe(true);
  }, 150_000);

  it("refuses to delete a running experiment, stops it, then deletes rows and run folder", async () => {
    const running = await create("stopped-run", { ...HYPER, epochs: 200 });
    await waitFor("an epoch", async () => (await epochRows(running.id)).length > 0);
    await expect(deleteExperiment(member, running.id)).rejects.toBeInstanceOf(Conflict);
    await stopExperiment(member, running.id);
    await waitStatus(running.id, "stopped");
    const stopped = await getExperiment(member, running.id);
    expect(existsSync(stopped.runDir!)).toBe(true);

    await deleteExperiment(member, running.id);
    expect(existsSync(stopped.runDir!)).toBe(false);
    expect(await tdb.db.select().from(experimentLogs).where(eq(experimentLogs.experimentId, running.id))).toEqual([]);
    await expect(getExperiment(member, running.id)).rejects.toBeInstanceOf(NotFound);
  }, 60_000);

  it("recovers a SIGKILLed run: the reaper re-queues it and it resumes with every epoch present once", async () => {
    const crashing = await create("crashing-run", { ...HYPER, epochs: 3 });
    await waitFor("epoch 1", async () => (await epochRows(crashing.id)).length >= 1);
    const pid = await waitFor("the run's child", async () => runningChildren.get(crashing.id));
    process.kill(pid, "SIGKILL");

    // Generous: CI runs this beside other heavy test files on 2 cores.
    await waitStatus(crashing.id, "completed", 120_000);
    const done = await getExperiment(member, crashing.id);
    expect(done.attempt).toBe(2);
    expect(done.retries).toBe(1);
    expect((await epochRows(crashing.id)).map((r) => r.epoch)).toEqual([1, 2, 3]);
    const logs = await getExperimentLogs(member, { id: crashing.id });
    expect(logs.some((l) => /killed by SIGKILL/.test(l.message))).toBe(true);
    expect(logs.some((l) => l.message.startsWith("Resuming"))).toBe(true);
  }, 150_000);
});

describe("per-run split and save folder", () => {
  it("trains on its own split without touching the dataset's, and copies its results into saveDir", async () => {
    const [before] = await tdb.db.select().from(datasets).where(eq(datasets.id, datasetId));
    const saveDir = path.join(process.env.STUDIO_IMPORT_ROOTS!, "saved");
    await mkdir(saveDir, { recursive: true });
    const run = await createExperiment(
      member,
      { projectId, name: "own-split", datasetId, model: "reference-cnn", hyperparameters: { ...HYPER, epochs: 1 }, splitRatios: { train: 0.5, val: 0.5, test: 0 }, splitSeed: 3, saveDir, start: true },
      { boss },
    );
    await waitStatus(run.id, "completed");
    // 3 classes × 10 images, half of each class for training: 15 images = 2 steps of 8 (the dataset's own split trains on 24).
    const steps = await tdb.db.select().from(experimentMetrics).where(and(eq(experimentMetrics.experimentId, run.id), eq(experimentMetrics.epoch, 1)));
    expect(Math.max(...steps.map((r) => r.step))).toBe(2);
    expect(before.splits?.train).toBe(24);
    const [after] = await tdb.db.select().from(datasets).where(eq(datasets.id, datasetId));
    expect(after.splits).toEqual(before.splits);
    expect(existsSync(path.join(saveDir, "weights", "best.ckpt"))).toBe(true);
    expect(existsSync(path.join(saveDir, "weights", "last.ckpt"))).toBe(true);
    expect(existsSync(path.join(saveDir, "results.csv"))).toBe(true);
  }, 60_000);

  it("refuses a save folder outside the import roots", async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), "outside-"));
    await expect(createExperiment(member, { projectId, name: "bad-save", datasetId, model: "reference-cnn", saveDir: outside }, { boss })).rejects.toThrow(/outside the allowed import roots/);
  });
});

describe("external command runs", () => {
  let admin: Ctx;
  const createAsAdmin = (name: string, command: string[], epochs = 1) =>
    createExperiment(admin, { projectId, name, datasetId, model: "reference-cnn", hyperparameters: { command, epochs }, device: "auto", start: true }, { boss });
  const node = (script: string) => ["node", "-e", script];

  beforeAll(async () => {
    const user = await seedUser(tdb.db, { email: "root@x.io", isAdmin: true, teams: [{ teamId: member.caller.teamId, role: "admin" }] });
    admin = await ctxFor(tdb.db, user.id, member.caller.teamId);
  });

  it("runs the command in the run folder, keeps its output as logs and parses its metrics", async () => {
    const lines = ["Epoch [1/2] started", "Train Loss: 0.5234, Train Accuracy: 82.45%", "Validation Loss: 0.6123, Validation Accuracy: 78.92%", "Epoch [2/2] started", "Train Loss: 0.4000, Train Accuracy: 90.00%"];
    const run = await createAsAdmin("command-run", node(`for (const line of ${JSON.stringify(lines)}) console.log(line); console.log(process.cwd())`), 2);
    await waitStatus(run.id, "completed");
    const done = await getExperiment(member, run.id);
    expect(done).toMatchObject({ currentEpoch: 2, progress: 100, backend: "external command" });
    expect((await epochRows(run.id)).map((r) => [r.epoch, r.values])).toEqual([
      [1, { epoch: 1, total_epochs: 2, train_loss: 0.5234, train_acc: 82.45, val_loss: 0.6123, val_acc: 78.92 }],
      [2, { epoch: 2, total_epochs: 2, train_loss: 0.4, train_acc: 90 }],
    ]);
    const messages = (await getExperimentLogs(member, { id: run.id })).map((l) => l.message);
    // The command printed its absolute working folder; clients see it relative to the storage root.
    expect(messages).toContain(path.relative(dataDir, done.runDir!));
    expect(messages.find((m) => m.startsWith("Running command"))).toMatch(/asked by root@x\.io \(user \d+\)/);
  }, 30_000);

  it("fails the run with the command's exit code, without retrying", async () => {
    const run = await createAsAdmin("failing-command", node("console.error('broken input'); process.exit(3)"));
    await waitStatus(run.id, "failed");
    const failed = await getExperiment(member, run.id);
    expect(failed.error).toMatch(/code 3.*broken input/);
    expect(failed.attempt).toBe(1);
  }, 30_000);

  it("cannot read the secret or reach the database through its environment", async () => {
    const secretFile = path.join(dataDir, "secret");
    await writeFile(secretFile, "do-not-leak", { mode: 0o600 });
    const probe = `let secret; try { secret = require("fs").readFileSync(${JSON.stringify(secretFile)}, "utf8") } catch (e) { secret = e.code }
      console.log("PROBE " + JSON.stringify({ env: process.env, secret, uid: process.getuid() }))`;
    const run = await createAsAdmin("isolated-command", node(probe));
    await waitStatus(run.id, "completed");
    const line = (await getExperimentLogs(member, { id: run.id })).map((l) => l.message).find((m) => m.startsWith("PROBE "))!;
    const seen = JSON.parse(line.slice("PROBE ".length)) as { env: Record<string, string>; secret: string; uid: number };
    expect(Object.keys(seen.env).filter((name) => /DATABASE|SECRET|PG|PASSWORD|TOKEN|STUDIO_(?!RUN_DIR)/.test(name))).toEqual([]);
    expect(JSON.stringify(seen.env)).not.toContain(tdb.url);
    if (process.getuid!() === 0) {
      expect(seen.uid).not.toBe(0);
      expect(seen.secret).toBe("EACCES");
    } else {
      expect(seen.uid).toBe(process.getuid!());
    }
  }, 30_000);
});

describe("leases", () => {
  it("refuses writes from an attempt whose lease was taken over", async () => {
    const exp = await createExperiment(member, { projectId, name: "lease-check", datasetId, model: "reference-cnn", hyperparameters: HYPER });
    await tdb.db.update(experiments).set({ status: "queued" }).where(eq(experiments.id, exp.id));
    const first = (await claimLease(tdb.db, exp.id, 0))!;
    expect(first).toMatchObject({ attempt: 1 });
    expect(await claimLease(tdb.db, exp.id, 0)).toBeNull();

    // What the reaper does with a silent run: back to the queue, then a new attempt claims it.
    await tdb.db.update(experiments).set({ status: "queued", leaseToken: null }).where(eq(experiments.id, exp.id));
    const second = (await claimLease(tdb.db, exp.id, 1))!;
    await expect(appendLog(tdb.db, first, { level: "info", stage: "training", message: "stale" })).rejects.toBeInstanceOf(LeaseLost);
    await expect(recordMetrics(tdb.db, first, { epoch: 1, step: 0, values: { loss: 1 } })).rejects.toBeInstanceOf(LeaseLost);
    expect(await appendLog(tdb.db, second, { level: "info", stage: "training", message: "current" })).toBe(1);
    await recordMetrics(tdb.db, second, { epoch: 1, step: 0, values: { loss: 2 } });
    await recordMetrics(tdb.db, second, { epoch: 1, step: 0, values: { loss: 3 } });
    expect((await epochRows(exp.id)).map((r) => r.values)).toEqual([{ loss: 3 }]);
    await tdb.db.update(experiments).set({ status: "stopped", leaseToken: null }).where(eq(experiments.id, exp.id));
  });
});

describe("live stream replay", () => {
  let server: RealtimeServer;
  beforeAll(async () => {
    server = await startRealtimeServer({ db: tdb.db, databaseUrl: tdb.url, port: 0, origin: "http://studio.test", dataDir, busProbeIntervalMs: 500 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("resends the log lines after the client's sequence number, then the status", async () => {
    const exp = await createExperiment(member, { projectId, name: "replay", datasetId, model: "reference-cnn", hyperparameters: HYPER });
    await tdb.db.update(experiments).set({ status: "queued" }).where(eq(experiments.id, exp.id));
    const lease = (await claimLease(tdb.db, exp.id, 0))!;
    for (const n of [1, 2, 3, 4]) await appendLog(tdb.db, lease, { level: "info", stage: "training", message: `line ${n}` });

    const { key } = await createApiKey(member, { name: "replay" });
    const client = connectSocket(`http://127.0.0.1:${server.port}`, { transports: ["websocket"], reconnection: false, auth: { token: key }, extraHeaders: { origin: "http://studio.test" } });
    const received: StudioEvent[] = [];
    client.on("event", (event) => received.push(event));
    try {
      const ack = await client.timeout(5000).emitWithAck("subscribe", { topic: `experiment:${exp.id}`, since: 2 });
      expect(ack).toMatchObject({ ok: true });
      await waitFor("replayed events", async () => received.length >= 3, 5000);
      expect(received.filter((e) => e.type === "experiment.log").map((e) => e.type === "experiment.log" && e.message)).toEqual(["line 3", "line 4"]);
      expect(received.at(-1)).toMatchObject({ type: "experiment.status", status: "running" });

      await appendLog(tdb.db, lease, { level: "info", stage: "training", message: "line 5" });
      await waitFor("the live line", async () => received.some((e) => e.type === "experiment.log" && e.seq === 5), 5000);

      const otherKey = (await createApiKey(outsider, { name: "other" })).key;
      const stranger = connectSocket(`http://127.0.0.1:${server.port}`, { transports: ["websocket"], reconnection: false, auth: { token: otherKey }, extraHeaders: { origin: "http://studio.test" } });
      try {
        expect(await stranger.timeout(5000).emitWithAck("subscribe", { topic: `experiment:${exp.id}` })).toMatchObject({ ok: false });
      } finally {
        stranger.close();
      }
    } finally {
      client.close();
    }
  });
});
