import crypto from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { connect, type DbHandle } from "../client";

const TEMPLATE_DB = "studio_test_template";

export interface TestDb extends DbHandle {
  url: string;
}

/** A fresh, migrated database for one test file, cloned from the run's template. */
export async function createTestDb(): Promise<TestDb> {
  const adminUrl = inject("pgAdminUrl");
  const name = `studio_test_${crypto.randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = connect(url.toString(), { max: 5 });
  return {
    ...handle,
    url: url.toString(),
    async close() {
      await handle.close();
      const drop = new pg.Client({ connectionString: adminUrl });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await drop.end();
    },
  };
}
