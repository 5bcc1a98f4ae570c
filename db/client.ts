import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";
import { env } from "@/server/env";

export type Db = PostgresJsDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** A db handle or an open transaction: services accept either. */
export type DbOrTx = Db | Tx;

export interface DbHandle {
  db: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/**
 * A connection attempt that is cut off mid-handshake by a server restart can hang until this gives up,
 * with every query queued behind it (postgres.js waits 30 s by default): runs' heartbeats would then
 * miss the reaper's post-outage grace. A local or LAN server answers in milliseconds, a loaded one in seconds.
 */
const CONNECT_TIMEOUT_SECONDS = 10;

export function connect(url: string, opts: { max?: number } = {}): DbHandle {
  const sql = postgres(url, { max: opts.max ?? 10, connect_timeout: CONNECT_TIMEOUT_SECONDS, onnotice: () => {}, connection: { application_name: "studio" } });
  const db = drizzle(sql, { schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

// Node's socket errors, postgres.js' own, and PostgreSQL's connection exceptions (class 08),
// shutdowns (57P01-57P03) and full connection slots (53300).
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "57P01", "57P02", "57P03", "53300"]);

/** True when an error (or its cause, as drizzle wraps them) means the database is unreachable, not that the query is wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === "string" ? e.code : "";
    if (UNAVAILABLE_CODES.has(code) || code.startsWith("08")) return true;
    // node-postgres (pg-boss, the realtime adapter) reports a dropped connection without a code.
    if (typeof e.message === "string" && /^Connection terminated/.test(e.message)) return true;
    if (e instanceof AggregateError && e.errors.some(isDatabaseUnavailable)) return true;
  }
  return false;
}

/**
 * Runs `operation`, and again while the database is unreachable (a restart, a failover), backing
 * off from 0.5 s to 5 s; any other error is thrown. `onWait` hears about each failed try.
 */
export async function retryWhileUnavailable<T>(operation: () => Promise<T>, onWait?: (error: unknown) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      onWait?.(error);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 * 2 ** attempt)));
    }
  }
}

const globalForDb = globalThis as unknown as { studioDb?: DbHandle };

/** The process-wide pool (kept on globalThis so Next's dev reloads don't open new pools). */
export function databaseUrl(): string {
  const url = env().DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start the studio with `npm start`, which provides it");
  return url;
}

export function getDb(): DbHandle {
  globalForDb.studioDb ??= connect(databaseUrl());
  return globalForDb.studioDb;
}

export { schema };
