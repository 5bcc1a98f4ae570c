import type PgBoss from "pg-boss";
import type { Db } from "@/db/client";
import { subscribe } from "@/server/events/bus";
import { STUDIO_VERSION } from "@/server/system/version";
import { startHeartbeat, type WorkerDevice } from "@/server/system/workers";
import { startBoss, stopBoss } from "./boss";
import { workJobs, type JobRegistry } from "./registry";

export interface RunningWorker {
  boss: PgBoss;
  workerId: number;
  /** Stops taking jobs, lets running ones finish (up to `timeoutMs`), then leaves the fleet. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The engine's device list; empty on a build where the engine cannot load, so the worker still serves other jobs. */
async function detectDevices(): Promise<WorkerDevice[]> {
  try {
    const { availableDevices } = await import("@/server/ml/backend");
    return await availableDevices();
  } catch (error) {
    console.warn(`[worker] no training devices: ${(error as Error).message}`);
    return [];
  }
}

/** Everything a training worker process does, startable in-process for tests. */
export async function runWorker(options: {
  db: Db;
  databaseUrl: string;
  registry: JobRegistry;
  slots: number;
  kind?: string;
  heartbeatMs?: number;
  pollingIntervalSeconds?: number;
}): Promise<RunningWorker> {
  const devices = await detectDevices();
  const boss = await startBoss(options.databaseUrl, options.registry);
  const pollers = await workJobs(boss, options.registry, { db: options.db, slots: options.slots, pollingIntervalSeconds: options.pollingIntervalSeconds });
  // pg-boss polls (every 2 s by default); a queued experiment also says so on the event bus, in the
  // transaction that queued its job, and that wakes this worker's pollers at once.
  const wakeUps = await subscribe(options.databaseUrl, (event) => {
    if (event.type === "experiment.status" && event.status === "queued") for (const id of pollers) boss.notifyWorker(id);
  });
  const heartbeat = await startHeartbeat(options.db, { kind: options.kind ?? "training", slots: options.slots, devices, version: STUDIO_VERSION }, options.heartbeatMs);
  return {
    boss,
    workerId: heartbeat.workerId,
    async stop(timeoutMs = 30_000) {
      await wakeUps.close();
      await stopBoss(boss, timeoutMs);
      await heartbeat.stop();
    },
  };
}
