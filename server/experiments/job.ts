import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { and, eq, sql } from "drizzle-orm";
import type { z } from "zod";
import type { Db } from "@/db/client";
import { experiments } from "@/db/schema";
import { env } from "@/server/env";
import { RUN_EXIT, type RunProcessOptions, type RunToWorker, type WorkerToRun } from "./run-protocol";
import type { trainJobPayload } from "./train-job";
import { appendLog, claimLease, finishRun, heartbeat, LeaseLost, type Lease } from "./lease";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RUN_SCRIPT = path.join(REPO_ROOT, "workers", "run-experiment.ts");

export interface TrainJobOptions {
  /** Defaults: the environment's DATABASE_URL and storage root. */
  databaseUrl?: string;
  dataDir?: string;
  /** How often the run process beats its heartbeat and reads pause/stop requests. */
  heartbeatMs?: number;
  /** A run asked to stop gets this long to stop by itself before it is killed. */
  stopGraceMs?: number;
  /** A run that neither answers a ping nor finishes a step for this long is killed and re-queued (default STUDIO_RUN_STALL_S). */
  stallMs?: number;
}

/** The stall limit is at least this many times the slowest step seen, so a slow model's long synchronous steps are no stall. */
const STEP_STALL_FACTOR = 3;
/** A freshly spawned run process spends seconds loading the engine before it can answer at all. */
const FIRST_ANSWER_MS = 60_000;

export type TrainJobOutcome = { experimentId: number; outcome: "skipped" | "finished" | "killed" | "lease-lost" | "crashed" | "stalled"; detail?: string };

/** A run process that has loaded the engine and waits for its options (workers/run-experiment.ts). */
function spawnRunProcess(): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", RUN_SCRIPT], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe", "ipc"] });
  // An idle one must not keep the worker alive; it exits by itself when the worker goes.
  child.unref();
  child.channel?.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  child.on("error", () => {});
  return child;
}

let waitingRunProcess: ChildProcess | undefined;

/** Hands the options to the waiting run process (starting a fresh one if it is gone) and starts the next. */
function startRun(options: RunProcessOptions): ChildProcess {
  const waiting = waitingRunProcess;
  const usable = waiting !== undefined && waiting.exitCode === null && waiting.signalCode === null && waiting.connected;
  const child = usable ? waiting : spawnRunProcess();
  waitingRunProcess = spawnRunProcess();
  child.ref();
  child.send(options);
  return child;
}

/**
 * One attempt of an experiment on a worker slot: claim the lease, run the attempt in a child process,
 * kill it when a stop is not honoured in time. A crashed child leaves recovery to the reaper (which
 * also covers a dead worker): its heartbeat is marked stale at once so the next reaper pass re-queues it.
 */
export async function runTrainJob(db: Db, payload: z.output<typeof trainJobPayload>, options: TrainJobOptions = {}): Promise<TrainJobOutcome> {
  const lease = await claimLease(db, payload.experimentId, payload.attempt);
  if (!lease) return { experimentId: payload.experimentId, outcome: "skipped", detail: "not queued for this attempt any more" };
  const heartbeatMs = options.heartbeatMs ?? 2000;
  const runOptions: RunProcessOptions = {
    databaseUrl: options.databaseUrl ?? env().DATABASE_URL!,
    experimentId: lease.experimentId,
    leaseToken: lease.token!,
    attempt: lease.attempt,
    teamId: lease.teamId,
    dataDir: options.dataDir ?? env().dataDir,
    heartbeatMs,
    allowCommands: env().STUDIO_ALLOW_COMMANDS,
  };
  const child = startRun(runOptions);
  runningChildren.set(lease.experimentId, child.pid!);
  const stderr: string[] = [];
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr.push(...chunk.split("\n").filter(Boolean));
    stderr.splice(0, Math.max(0, stderr.length - 20));
  });

  // The worker beats for its child (its event loop stays free while the child computes a long step),
  // but only while the child proves it is alive: it answers pings when its event loop turns, and
  // reports each step; a frozen or deadlocked child does neither and is killed after the stall limit.
  const stallMs = options.stallMs ?? env().STUDIO_RUN_STALL_S * 1000;
  let lastSignOfLife = Date.now();
  let answered = false;
  let lastStepAt: number | null = null;
  let slowestStepMs = 0;
  child.on("message", (message: RunToWorker) => {
    const now = Date.now();
    lastSignOfLife = now;
    answered = true;
    if (message.type !== "progress") return;
    if (lastStepAt !== null) slowestStepMs = Math.max(slowestStepMs, now - lastStepAt);
    lastStepAt = now;
  });
  const stallLimitMs = () => Math.max(stallMs, STEP_STALL_FACTOR * slowestStepMs, answered ? 0 : FIRST_ANSWER_MS);
  let stalledFor: number | null = null;
  let killedForStop = false;
  let leaseLost = false;
  let stopSeenAt: number | null = null;
  const beat = setInterval(() => {
    if (stalledFor !== null) return;
    const silentMs = Date.now() - lastSignOfLife;
    if (silentMs > stallLimitMs()) {
      stalledFor = silentMs;
      child.kill("SIGKILL");
      return;
    }
    if (child.connected) child.send({ type: "ping" } satisfies WorkerToRun, () => {});
    void heartbeat(db, lease)
      .then((status) => {
        if (status !== "stopping") return;
        stopSeenAt ??= Date.now();
        if (Date.now() - stopSeenAt > (options.stopGraceMs ?? 15_000) && !killedForStop) {
          killedForStop = true;
          child.kill("SIGKILL");
        }
      })
      .catch((error) => {
        if (!(error instanceof LeaseLost) || leaseLost) return;
        // The reaper gave this attempt up (e.g. the database was unreachable too long): make sure it stops.
        leaseLost = true;
        child.kill("SIGKILL");
      });
  }, heartbeatMs);

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  clearInterval(beat);
  runningChildren.delete(lease.experimentId);
  const id = lease.experimentId;
  if (leaseLost || exit.code === RUN_EXIT.leaseLost) return { experimentId: id, outcome: "lease-lost" };
  if (killedForStop) {
    await appendLog(db, lease, { level: "warn", stage: "stopped", message: `The run did not stop within the grace period and was killed; weights/last holds the last finished epoch` }).catch(() => {});
    await finishRun(db, lease, { status: "stopped" });
    return { experimentId: id, outcome: "killed" };
  }
  if (exit.code === RUN_EXIT.finished) return { experimentId: id, outcome: "finished" };
  if (stalledFor !== null) {
    const seconds = Math.round(stalledFor / 1000);
    await markCrashed(db, lease, `The run made no progress for ${seconds} s (no step finished, no answer to the worker; frozen or deadlocked?) and was killed; the reaper re-queues it from its last checkpoint`);
    return { experimentId: id, outcome: "stalled", detail: `no progress for ${seconds} s` };
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const why = shutdownSignal ? `; the worker was stopping (${shutdownSignal})` : stderr.length ? ` (${stderr.slice(-3).join(" | ")})` : "";
  await markCrashed(db, lease, `The run process ${how}${why}; the reaper re-queues it from its last checkpoint`);
  return { experimentId: id, outcome: "crashed", detail: how };
}

/** Logs the crash and ages the heartbeat past any threshold, handing the run to the reaper. */
async function markCrashed(db: Db, lease: Lease, message: string): Promise<void> {
  await appendLog(db, lease, { level: "error", stage: "failed", message }).catch(() => {});
  await db
    .update(experiments)
    .set({ heartbeatAt: sql`'epoch'::timestamptz` })
    .where(and(eq(experiments.id, lease.experimentId), eq(experiments.leaseToken, lease.token!)));
}

/** Child pids by experiment, for tests and benchmarks that need to crash a run on purpose. */
export const runningChildren = new Map<number, number>();

let shutdownSignal: string | undefined;

/**
 * A stopping worker kills its run processes (they would otherwise train on unsupervised, outside any
 * slot count); each run is marked for the reaper and resumes from its last checkpoint on a worker.
 */
export function killRunProcesses(signal: string): void {
  shutdownSignal = signal;
  for (const pid of runningChildren.values()) process.kill(pid, "SIGKILL");
  waitingRunProcess?.kill("SIGKILL");
}
