import PgBoss from "pg-boss";
import { env } from "@/server/env";
import { createQueues, type JobRegistry } from "./registry";

/** pg-boss keeps its tables in their own schema, beside the studio's. */
export const BOSS_SCHEMA = "pgboss";

/** Starts pg-boss on the studio's database (installing or migrating its schema) and creates the registry's queues. */
export async function startBoss(databaseUrl: string, registry: JobRegistry, options: { onError?: (error: Error) => void } = {}): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: databaseUrl, schema: BOSS_SCHEMA, application_name: "studio-queue", max: 4 });
  boss.on("error", options.onError ?? ((error) => console.error(`[queue] ${error.message}`)));
  await boss.start();
  await createQueues(boss, registry);
  return boss;
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
    // Imported here, not at the top: domain services import this module, and the registry imports their jobs.
    globalForBoss.studioBoss = import("./index").then(({ jobRegistry }) => startBoss(url, jobRegistry));
    globalForBoss.studioBoss.catch(() => {
      globalForBoss.studioBoss = undefined;
    });
  }
  return globalForBoss.studioBoss;
}
