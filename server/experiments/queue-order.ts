import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { BOSS_SCHEMA } from "@/server/jobs/registry";

export const TRAIN_QUEUE = "experiments.train";

export interface QueuePlace {
  /** 1 = the next queued run to start, over every team's runs (the slots are shared). */
  position: number;
  /** Its training job's pg-boss priority: 0 unless an administrator moved it. */
  priority: number;
}

/**
 * pg-boss installs its schema when a process first starts it; until then there are no jobs to rank.
 * Remembered per database handle, since one process (tests, benches) may talk to several databases.
 */
const bossSchemaSeen = new WeakSet<object>();

async function bossInstalled(db: DbOrTx): Promise<boolean> {
  if (bossSchemaSeen.has(db)) return true;
  const [row] = await db.execute<{ present: boolean }>(sql`select to_regclass(${`${BOSS_SCHEMA}.job`}) is not null as present`);
  if (row?.present) bossSchemaSeen.add(db);
  return Boolean(row?.present);
}

/**
 * Every queued run's place in the order pg-boss will hand their training jobs to free slots: by job
 * priority, highest first, then by how long the run has waited.
 */
export async function queuePlaces(db: DbOrTx): Promise<Map<number, QueuePlace>> {
  const priority = (await bossInstalled(db))
    ? sql`coalesce((
        select max(job.priority) from ${sql.identifier(BOSS_SCHEMA)}.job job
        where job.name = ${TRAIN_QUEUE} and job.state < 'active' and job.data->>'experimentId' = e.id::text
      ), 0)`
    : sql`0`;
  const rows = await db.execute<{ id: number; priority: number }>(
    sql`select id, priority from (select e.id, e.queued_at, ${priority}::int as priority from experiments e where e.status = 'queued') q order by priority desc, queued_at, id`,
  );
  return new Map(rows.map((row, i) => [Number(row.id), { position: i + 1, priority: Number(row.priority) }]));
}
