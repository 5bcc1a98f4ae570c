import { sql } from "drizzle-orm";
import { getDb, type Db } from "@/db/client";
import { env } from "@/server/env";
import { BOSS_SCHEMA } from "@/server/jobs/registry";
import { STUDIO_VERSION } from "./version";
import { listWorkers, WORKER_ALIVE_SECONDS } from "./workers";

type Status = "up" | "down";

export interface HealthReport {
  /** "down" when a required check (database, queue, workers) is down. */
  status: Status;
  version: string;
  checks: {
    database: { status: Status; version?: string; latencyMs?: number; error?: string };
    queue: { status: Status; schema: string; schemaVersion?: number; error?: string };
    workers: {
      status: Status;
      workers: { host: string; pid: number; kind: string; lastBeatSecondsAgo: number; alive: boolean }[];
      error?: string;
    };
    /** Reported, not required: without it pages still work, only live updates stop. */
    realtime: { status: Status; url: string; connections?: number; error?: string };
  };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function checkDatabase(db: Db): Promise<HealthReport["checks"]["database"]> {
  const started = performance.now();
  try {
    const [row] = await db.execute<{ version: string }>(sql`SELECT version() AS version`);
    return { status: "up", version: row.version, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    return { status: "down", error: message(error) };
  }
}

async function checkQueue(db: Db): Promise<HealthReport["checks"]["queue"]> {
  try {
    const [installed] = await db.execute<{ table: string | null }>(sql`SELECT to_regclass(${`${BOSS_SCHEMA}.version`})::text AS table`);
    if (!installed.table) return { status: "down", schema: BOSS_SCHEMA, error: `pg-boss is not installed in schema ${BOSS_SCHEMA} (no worker has started yet)` };
    const [row] = await db.execute<{ version: number }>(sql`SELECT version FROM ${sql.identifier(BOSS_SCHEMA)}.version`);
    return { status: "up", schema: BOSS_SCHEMA, schemaVersion: Number(row.version) };
  } catch (error) {
    return { status: "down", schema: BOSS_SCHEMA, error: message(error) };
  }
}

async function checkWorkers(db: Db): Promise<HealthReport["checks"]["workers"]> {
  try {
    const workers = (await listWorkers(db)).map(({ host, pid, kind, lastBeatSecondsAgo, alive }) => ({ host, pid, kind, lastBeatSecondsAgo, alive }));
    const anyAlive = workers.some((w) => w.kind === "training" && w.alive);
    return anyAlive ? { status: "up", workers } : { status: "down", workers, error: `no training worker has beaten its heartbeat in the last ${WORKER_ALIVE_SECONDS} s` };
  } catch (error) {
    return { status: "down", workers: [], error: message(error) };
  }
}

async function checkRealtime(url: string): Promise<HealthReport["checks"]["realtime"]> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000), cache: "no-store" });
    if (!response.ok) return { status: "down", url, error: `HTTP ${response.status}` };
    const body = (await response.json()) as { ok?: boolean; connections?: number };
    return body.ok ? { status: "up", url, connections: body.connections } : { status: "down", url, error: "sidecar reports not ok" };
  } catch (error) {
    return { status: "down", url, error: message(error) };
  }
}

/** Where this host's realtime sidecar answers: loopback when it listens on every interface. */
function defaultRealtimeUrl(): string {
  const host = env().STUDIO_REALTIME_HOST;
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${env().realtimePort}`;
}

/** What GET /api/health tells a caller without login: each check's status, no hosts, pids, versions or errors. */
export interface PublicHealthReport {
  status: Status;
  checks: { database: Status; queue: Status; workers: Status; realtime: Status };
}

export function publicHealth(report: HealthReport): PublicHealthReport {
  const { database, queue, workers, realtime } = report.checks;
  return { status: report.status, checks: { database: database.status, queue: queue.status, workers: workers.status, realtime: realtime.status } };
}

/** The whole studio's health, for GET /api/health and the start command's readiness wait. */
export async function checkHealth(options: { db?: Db; realtimeUrl?: string } = {}): Promise<HealthReport> {
  const db = options.db ?? getDb().db;
  const [database, queue, workers, realtime] = await Promise.all([
    checkDatabase(db),
    checkQueue(db),
    checkWorkers(db),
    checkRealtime(options.realtimeUrl ?? defaultRealtimeUrl()),
  ]);
  const required = [database, queue, workers];
  return {
    status: required.every((check) => check.status === "up") ? "up" : "down",
    version: STUDIO_VERSION,
    checks: { database, queue, workers, realtime },
  };
}
