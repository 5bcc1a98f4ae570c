import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { connect, type DbHandle } from "../client";
import { startEmbeddedPostgres, type EmbeddedServer } from "../embedded";
import { runMigrations } from "../migrate";

/**
 * A PostgreSQL of one test file's own, migrated, that the test may really stop and start again
 * (the run's shared test server cannot be stopped under the other files).
 */
export interface RestartablePostgres extends DbHandle {
  url: string;
  server: EmbeddedServer;
  /** A fast shutdown, as `pg_ctl stop -m fast` or a service restart does: every connection is cut. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "restartable-pg-"));
  // As root PostgreSQL runs as "postgres", which must be able to enter the folder.
  fs.chmodSync(work, 0o755);
  const server = await startEmbeddedPostgres({ dir: path.join(work, "pg"), port: await freePort(), password: "restartable-test" });
  await server.createDatabase("studio");
  const url = server.url("studio");
  await runMigrations(url);
  const handle = connect(url, { max: 5 });
  return {
    ...handle,
    url,
    server,
    stop: () => server.stop(),
    start: () => server.restart(),
    async close() {
      await handle.close();
      await server.stop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}
