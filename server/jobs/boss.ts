import { sql } from "drizzle-orm";
import PgBoss from "pg-boss";
import { isDatabaseUnavailable, type DbOrTx } from "@/db/client";
import { env } from "@/server/env";
import { jobRegistry } from "./index";
import { BOSS_SCHEMA, createQueues, type JobRegistry } from "./registry";

let outageGuardInstalled = false;

/**
 * pg-boss lets some of its own calls reject unhandled while the database is down (marking a job
 * failed as PostgreSQL shuts down); Node would end the process for it. Those are logged and
 * outlived; any other unhandled rejection still ends the process, as before.
 */
function outliveQueueOutages(): void {
  if (outageGuardInstalled) return;
  outageGuardInstalled = true;
  process.on("unhandledRejection", (reason) => {
    if (!isDatabaseUnavailable(reason)) throw reason;
    console.error(`[queue] database unreachable: ${(reason as Error).message}`);
  });
}

/** Starts pg-boss on the studio's database (installing or migrating its schema) and creates the registry's queues. */
export async function startBoss(databaseUrl: string, registry: JobRegistry, options: { onError?: (error: Error) => void } = {}): Promise<PgBoss> {
  outliveQueueOutages();
  const boss = new PgBoss({ connectionString: databaseUrl, schema: BOSS_SCHEMA, application_name: "studio-queue", max: 4 });
  boss.on("error", options.onError ?? ((error) => console.error(`[queue] ${error.message}`)));
  await boss.start();
  await createQueues(boss, registry);
  return boss;
}

/**
 * Runs pg-boss' own statements (it numbers its parameters $1, $2 …) on one of our connections or
 * transactions. Given a transaction, a job sent with it exists exactly when the rows it is about
 * do: a worker can no longer fetch the job before the transaction that queued its experiment has
 * committed, find nothing to claim and drop it.
 */
export function bossExecutor(db: DbOrTx): PgBoss.Db {
  return {
    async executeSql(text, values) {
      const parts = text.split(/\$(\d+)/);
      const query = sql.join(parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql`${asParameter(values[Number(part) - 1])}`)));
      return { rows: [...(await db.execute(query))] };
    },
  };
}

/** pg-boss hands node-postgres values: objects become JSON text (its statements cast them), undefined null. */
function asParameter(value: unknown): unknown {
  if (value === undefined) return null;
  if (value !== null && typeof value === "object" && !(value instanceof Date)) return JSON.stringify(value);
  return value;
}

/** Lets running jobs finish (up to `timeoutMs`), then closes pg-boss's connections. */
export async function stopBoss(boss: PgBoss, timeoutMs = 30_000): Promise<void> {
  await boss.stop({ graceful: true, timeout: timeoutMs, wait: true });
}

const globalForBoss = globalThis as unknown as { studioBoss?: Promise<PgBoss> };

/**
 * The process's one pg-boss instance, for code that only sends jobs (the web server). Kept on
 * globalThis so Next's dev reloads don't start a second one.
 */
export function getBoss(): Promise<PgBoss> {
  if (!globalForBoss.studioBoss) {
    const url = env().DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set: start the studio with `npm start`, which provides it");
    globalForBoss.studioBoss = startBoss(url, jobRegistry);
    globalForBoss.studioBoss.catch(() => {
      globalForBoss.studioBoss = undefined;
    });
  }
  return globalForBoss.studioBoss;
}
