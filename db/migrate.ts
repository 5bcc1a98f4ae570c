import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { connect } from "./client";

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

/** Applies the committed SQL migrations; safe to run on every start (applied ones are skipped). */
export async function runMigrations(url: string): Promise<void> {
  const handle = connect(url, { max: 1 });
  try {
    await handle.sql`SET client_min_messages TO warning`;
    await migrate(handle.db, { migrationsFolder });
  } finally {
    await handle.close();
  }
}
