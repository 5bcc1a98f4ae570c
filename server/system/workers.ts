import os from "node:os";
import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { workers } from "@/db/schema";

export type WorkerDevice = (typeof workers.$inferSelect)["devices"][number];

export interface WorkerRegistration {
  kind: string;
  slots: number;
  devices: WorkerDevice[];
  version: string;
}

export interface Heartbeat {
  workerId: number;
  /** Stops beating and removes the row, so the fleet view drops this process at once. */
  stop(): Promise<void>;
}

/** A worker counts as alive while its last heartbeat is younger than this. */
export const WORKER_ALIVE_SECONDS = 30;

/**
 * Registers this process in `workers` (one row per kind, host and pid; a restarted process with a
 * recycled pid takes the old row over) and refreshes `heartbeat_at` every `intervalMs`.
 */
export async function startHeartbeat(db: Db, registration: WorkerRegistration, intervalMs = 5000): Promise<Heartbeat> {
  const identity = { kind: registration.kind, host: os.hostname(), pid: process.pid };
  const details = { slots: registration.slots, devices: registration.devices, version: registration.version };
  const register = async (): Promise<number> => {
    const [row] = await db
      .insert(workers)
      .values({ ...identity, ...details })
      .onConflictDoUpdate({ target: [workers.kind, workers.host, workers.pid], set: { ...details, startedAt: sql`now()`, heartbeatAt: sql`now()` } })
      .returning({ id: workers.id });
    return row.id;
  };
  let workerId = await register();

  const beat = async () => {
    try {
      const updated = await db.update(workers).set({ heartbeatAt: sql`now()` }).where(eq(workers.id, workerId)).returning({ id: workers.id });
      // Someone pruned the row (e.g. after a long pause): come back rather than vanish from the fleet.
      if (updated.length === 0) workerId = await register();
    } catch (error) {
      console.error(`[heartbeat] ${identity.kind} worker ${workerId}: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();

  return {
    get workerId() {
      return workerId;
    },
    async stop() {
      clearInterval(timer);
      await db.delete(workers).where(eq(workers.id, workerId));
    },
  };
}

export interface WorkerStatus {
  id: number;
  kind: string;
  host: string;
  pid: number;
  slots: number;
  devices: WorkerDevice[];
  version: string;
  startedAt: Date;
  lastBeatSecondsAgo: number;
  alive: boolean;
}

/** Every registered worker with its heartbeat age, measured by the database's clock (hosts' clocks may differ). */
export async function listWorkers(db: Db): Promise<WorkerStatus[]> {
  const rows = await db
    .select({
      id: workers.id,
      kind: workers.kind,
      host: workers.host,
      pid: workers.pid,
      slots: workers.slots,
      devices: workers.devices,
      version: workers.version,
      startedAt: workers.startedAt,
      ageSeconds: sql<string>`extract(epoch from now() - ${workers.heartbeatAt})`,
    })
    .from(workers)
    .orderBy(workers.kind, workers.host, workers.pid);
  return rows.map(({ ageSeconds, ...row }) => {
    const lastBeatSecondsAgo = Math.max(0, Math.round(Number(ageSeconds) * 10) / 10);
    return { ...row, lastBeatSecondsAgo, alive: lastBeatSecondsAgo < WORKER_ALIVE_SECONDS };
  });
}
