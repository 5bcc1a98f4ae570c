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

export function connect(url: string, opts: { max?: number } = {}): DbHandle {
  const sql = postgres(url, { max: opts.max ?? 10, onnotice: () => {}, connection: { application_name: "studio" } });
  const db = drizzle(sql, { schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
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
