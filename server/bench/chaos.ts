import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { and, desc, eq, sql } from "drizzle-orm";
import { connect, retryWhileUnavailable } from "@/db/client";
import { experimentLogs, experimentMetrics, experiments, workers } from "@/db/schema";
import { makeShapesImageFolder } from "@/server/ml/data/testing/shapes";
import { requireProductionBuild, startBenchStudio } from "./studio";

/**
 * `npm run chaos` (tsx server/bench/chaos.ts), on an existing production build: starts the whole
 * studio on a fresh data folder and breaks it three ways in the middle of a training run, printing
 * one JSON line per case with what it measured:
 *  - database: the embedded PostgreSQL is killed (SIGKILL); time until /api/health says so, until the
 *    supervisor has it back, until the run trains again; what a request answered meanwhile;
 *  - frozen run: the run's process is stopped (SIGSTOP); time until the worker kills it, until a new
 *    attempt trains (STUDIO_RUN_STALL_S is set short here);
 *  - dead worker: the training worker is killed (SIGKILL); time until its run processes are gone, until
 *    the supervisor's new worker resumes the run.
 * Each case ends with the run's rows checked: metric points missing, log sequence gaps, epochs
 * trained twice (a re-queued attempt re-trains the epoch it was in).
 */
requireProductionBuild();
const STALL_S = 10;
process.env.STUDIO_RUN_STALL_S = String(STALL_S);
const port = Number(process.env.BENCH_PORT ?? 3951);
const studio = await startBenchStudio(port, (importRoot) => makeShapesImageFolder(path.join(importRoot, "shapes"), { classes: 3, perClass: 20, size: 32, seed: 1 }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (from: number, to: number) => Math.round((to - from) / 100) / 10;
let token = "";
const trpc = <T>(procedure: string, input: unknown, mutation = false) => studio.trpc<T>(token, procedure, input, mutation);

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 300_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => undefined)) return Date.now();
    if (Date.now() > deadline || studio.process.exitCode !== null) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

/** A process that exists and is not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}
const cpuTicks = (pid: number) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
};
const childrenOf = (pid: number) => execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).split("\n").map(Number).filter((n) => n > 0);

async function health(): Promise<{ status: number; database?: string }> {
  const res = await fetch(`${studio.base}/api/health`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { checks?: { database?: string } };
  return { status: res.status, database: body.checks?.database };
}

try {
  // The supervisor builds the web app first when the sources changed since the last build.
  await studio.healthy(1_500_000);
  token = await studio.logIn();
  const password = fs.readFileSync(path.join(studio.dataDir, "pg-password"), "utf8").trim();
  const { db, close } = connect(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port + 100}/studio`, { max: 2 });
  const read = <T>(query: () => Promise<T>) => retryWhileUnavailable(query);

  const projects = await trpc<{ id: number; name: string }[]>("projects.list", undefined);
  const projectId = projects.find((p) => p.name === "default")!.id;
  const dataset = await trpc<{ id: number }>("datasets.importFromPath", { projectId, name: "shapes", path: path.join(studio.importRoot, "shapes") }, true);
  await until("the dataset import", async () => (await trpc<{ status: string }>("datasets.byId", { id: dataset.id })).status === "ready");

  const EPOCHS = 12;
  const startRun = (name: string) =>
    trpc<{ id: number }>("experiments.create", { projectId, name, datasetId: dataset.id, model: "reference-cnn", hyperparameters: { epochs: EPOCHS, batch: 8, imgsz: 32, log_every: 1, seed: 1 }, device: "auto", start: true }, true);
  const metricCount = async (id: number) => (await read(() => db.select({ n: sql<number>`count(*)::int` }).from(experimentMetrics).where(eq(experimentMetrics.experimentId, id))))[0].n;
  const runRow = async (id: number) => (await read(() => db.select().from(experiments).where(eq(experiments.id, id))))[0];
  const trainingWorker = async () =>
    (await read(() => db.select().from(workers).where(and(eq(workers.kind, "training"), sql`${workers.heartbeatAt} > now() - interval '10 seconds'`)).orderBy(desc(workers.startedAt))))[0];
  /** The worker's run process that is training: of its children, the one that used the most CPU. */
  const runProcessOf = (workerPid: number) => childrenOf(workerPid).sort((a, b) => cpuTicks(b) - cpuTicks(a))[0];

  /** Waits for the run to complete, then checks its rows. */
  async function audit(id: number) {
    await until(`experiment ${id} completed`, async () => (await runRow(id)).status === "completed", 600_000);
    const row = await runRow(id);
    const points = await read(() => db.select({ epoch: experimentMetrics.epoch, step: experimentMetrics.step }).from(experimentMetrics).where(eq(experimentMetrics.experimentId, id)));
    const stepsPerEpoch = Math.max(...points.map((p) => p.step));
    const missing = EPOCHS * (stepsPerEpoch + 1) - points.length;
    const logs = await read(() => db.select({ seq: experimentLogs.seq, message: experimentLogs.message }).from(experimentLogs).where(eq(experimentLogs.experimentId, id)).orderBy(experimentLogs.seq));
    const gaps = logs.filter((l, i) => l.seq !== i + 1).length;
    const epochStarts = logs.filter((l) => /^Epoch \[\d+\/\d+\] started$/.test(l.message)).length;
    return { attempts: row.attempt, metric_points_missing: missing, log_seq_gaps: gaps, log_lines: logs.length, epochs_trained_twice: epochStarts - EPOCHS };
  }

  // 1. The embedded PostgreSQL dies in the middle of a run.
  {
    const run = await startRun("chaos-database");
    await until("the first step", async () => (await metricCount(run.id)) > 0);
    const postmaster = Number(fs.readFileSync(path.join(studio.dataDir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);
    const killedAt = Date.now();
    process.kill(postmaster, "SIGKILL");
    const detectedAt = await until("health to report the database down", async () => (await health()).database === "down", 60_000);
    const duringOutage = await fetch(`${studio.base}/task_status/${run.id}`, { headers: { authorization: `Bearer ${token}` } }).then((res) => res.status).catch(() => "no answer");
    const backAt = await until("health to report the database up", async () => (await health()).database === "up", 120_000);
    const before = await metricCount(run.id);
    const resumedAt = await until("the run to train again", async () => (await metricCount(run.id)) > before, 120_000);
    console.log(
      JSON.stringify({
        case: "embedded PostgreSQL killed (SIGKILL) mid-run",
        detect_s: seconds(killedAt, detectedAt),
        database_back_s: seconds(killedAt, backAt),
        run_resumed_s: seconds(killedAt, resumedAt),
        task_status_during_outage: duringOutage,
        ...(await audit(run.id)),
      }),
    );
  }

  // 2. The run's process freezes.
  {
    const run = await startRun("chaos-frozen-run");
    await until("the first step", async () => (await metricCount(run.id)) > 0);
    const worker = await trainingWorker();
    const child = runProcessOf(worker.pid);
    const stoppedAt = Date.now();
    process.kill(child, "SIGSTOP");
    const killedAt = await until("the worker to kill the frozen run", async () => !running(child), 120_000);
    const requeuedAt = await until("a new attempt", async () => (await runRow(run.id)).attempt > 1, 120_000);
    const before = await metricCount(run.id);
    const resumedAt = await until("the new attempt to train", async () => (await metricCount(run.id)) > before, 120_000);
    console.log(
      JSON.stringify({
        case: `run process frozen (SIGSTOP), STUDIO_RUN_STALL_S=${STALL_S}`,
        detect_and_kill_s: seconds(stoppedAt, killedAt),
        new_attempt_s: seconds(stoppedAt, requeuedAt),
        run_resumed_s: seconds(stoppedAt, resumedAt),
        ...(await audit(run.id)),
      }),
    );
  }

  // 3. The training worker is killed.
  {
    const run = await startRun("chaos-dead-worker");
    await until("the first step", async () => (await metricCount(run.id)) > 0);
    const worker = await trainingWorker();
    const runProcesses = childrenOf(worker.pid);
    const killedAt = Date.now();
    process.kill(worker.pid, "SIGKILL");
    const orphansGoneAt = await until("the run processes to exit", async () => runProcesses.every((pid) => !running(pid)), 60_000).catch(() => null);
    const newWorkerAt = await until("the supervisor's new worker", async () => ((await trainingWorker())?.pid ?? worker.pid) !== worker.pid, 120_000);
    const requeuedAt = await until("a new attempt", async () => (await runRow(run.id)).attempt > 1, 180_000);
    const before = await metricCount(run.id);
    const resumedAt = await until("the new attempt to train", async () => (await metricCount(run.id)) > before, 120_000);
    console.log(
      JSON.stringify({
        case: "training worker killed (SIGKILL) mid-run",
        run_processes: runProcesses.length,
        orphans_left: runProcesses.filter(running).length,
        orphans_gone_s: orphansGoneAt === null ? null : seconds(killedAt, orphansGoneAt),
        new_worker_s: seconds(killedAt, newWorkerAt),
        new_attempt_s: seconds(killedAt, requeuedAt),
        run_resumed_s: seconds(killedAt, resumedAt),
        ...(await audit(run.id)),
      }),
    );
  }
  await close();
} finally {
  await studio.stop();
}
