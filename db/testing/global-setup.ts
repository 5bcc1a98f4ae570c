import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedServer } from "../embedded";
import { runMigrations } from "../migrate";

declare module "vitest" {
  export interface ProvidedContext {
    /** Connection URL of the test server's maintenance database; test files make their own databases from the template. */
    pgAdminUrl: string;
  }
}

export const TEMPLATE_DB = "studio_test_template";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/**
 * Starts one real PostgreSQL for the whole run (the embedded one, or DATABASE_URL's server),
 * migrates a template database once; each test file then clones it (see test-db.ts).
 */
export default async function setup(project: TestProject) {
  let server: EmbeddedServer | undefined;
  let clusterDir: string | undefined;
  let adminUrl: string;
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = "/postgres";
    adminUrl = url.toString();
  } else {
    // A cluster of its own per run, so concurrent runs never share (or drop) each other's databases.
    clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), "studio-test-pg-"));
    server = await startEmbeddedPostgres({
      dir: path.join(clusterDir, "pg"),
      port: await freePort(),
      password: "studio-test",
    });
    adminUrl = server.url("postgres");
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();

  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  await runMigrations(templateUrl.toString());

  project.provide("pgAdminUrl", adminUrl);
  return async () => {
    await server?.stop();
    if (clusterDir) fs.rmSync(clusterDir, { recursive: true, force: true });
  };
}
