import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedServer } from "./embedded";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "embedded-pg-"));
const dir = path.join(work, "pg");
const password = "embedded-test";
let server: EmbeddedServer | undefined;

function listenOnFreePort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const holder = net.createServer();
    holder.once("error", reject);
    holder.listen(0, "127.0.0.1", () => resolve(holder));
  });
}
const portOf = (holder: net.Server) => (holder.address() as net.AddressInfo).port;
const close = (holder: net.Server) => new Promise<void>((resolve) => holder.close(() => resolve()));

async function query(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>("SELECT 1 AS one")).rows[0].one;
  } finally {
    await client.end();
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe("embedded PostgreSQL", () => {
  it("says which port is taken and what to set, instead of rejecting with nothing", async () => {
    const holder = await listenOnFreePort();
    try {
      const failed = await startEmbeddedPostgres({ dir, port: portOf(holder), password }).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(EmbeddedPostgresError);
      expect((failed as Error).message).toMatch(new RegExp(`Port ${portOf(holder)} .*taken.*STUDIO_EMBEDDED_PG_PORT`));
    } finally {
      await close(holder);
    }
  });

  it("reports an unexpected exit, starts again on the same data, and stops at once when already gone", async () => {
    const holder = await listenOnFreePort();
    const port = portOf(holder);
    await close(holder);
    server = await startEmbeddedPostgres({ dir, port, password });
    const exits: string[] = [];
    server.onUnexpectedExit((how) => exits.push(how));
    expect(await query(server.url("postgres"))).toBe(1);

    const crashed = new Promise<void>((resolve) => server!.onUnexpectedExit(() => resolve()));
    process.kill(server.pid()!, "SIGKILL");
    await crashed;
    expect(exits).toEqual(["SIGKILL"]);
    await server.stop();

    await server.restart();
    expect(await query(server.url("postgres"))).toBe(1);
    const pid = server.pid()!;
    await server.stop();
    expect(alive(pid)).toBe(false);
    expect(exits).toEqual(["SIGKILL"]);
    await server.stop();
  });
});
